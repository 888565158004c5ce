"""Lambda entry point of the worker (asynchronous invocations from the webhook): runs one style job."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.core.job import Job
from handler.core.limits import WORKER_SAFETY_MARGIN_SECONDS
from handler.jobs.invocation import run_job
from handler.observability import logger, tracer
from handler.wiring import worker as wiring

config, store = wiring.idempotency()  # a missing variable fails the function's start, by name


@logger.inject_lambda_context(clear_state=True)
@tracer().capture_lambda_handler(capture_response=False)
@idempotent(config=config, persistence_store=store)
@event_parser(model=Job)
def lambda_handler(job: Job, context: LambdaContext) -> dict[str, str]:
    """Claim the job, stylize, report progress, deliver the result; tell the user if it fails."""
    seconds_left = context.get_remaining_time_in_millis() / 1000 - WORKER_SAFETY_MARGIN_SECONDS
    return run_job(wiring.runner(), wiring.accounting(), job, seconds_left, int(context.memory_limit_in_mb))
