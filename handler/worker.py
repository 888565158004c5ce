"""Lambda entry point of the worker (asynchronous invocations from the webhook): runs one style job."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.core.state import IDEMPOTENCY_TTL_SECONDS
from handler.jobs.payload import JobPayload
from handler.jobs.worker_runtime import run_job
from handler.settings import get_settings

logger = Logger(service="stylebot")
tracer = Tracer(service="stylebot")
metrics = Metrics(namespace="Stylebot", service="stylebot")
# A duplicate delivery of the same job (Lambda's async queue is at-least-once) returns the first result.
idempotency = IdempotencyConfig(event_key_jmespath="job_id", expires_after_seconds=IDEMPOTENCY_TTL_SECONDS)
store = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table or "unset")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@idempotent(config=idempotency, persistence_store=store)
@event_parser(model=JobPayload)
def lambda_handler(job: JobPayload, context: LambdaContext) -> dict[str, str]:
    """Claim the job, stylize, report progress, deliver the result; tell the user if it fails."""
    return run_job(job, context, metrics)
