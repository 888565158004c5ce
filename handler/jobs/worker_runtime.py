"""The worker's execution environment: the job runner with the ML engine (torch), made once per container."""

from __future__ import annotations

import time
from functools import cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.jobs.payload import JobPayload
from handler.jobs.runner import JobRunner
from handler.jobs.runtime import make_runner
from handler.jobs.worker_engine import MLEngine
from handler.settings import get_settings

logger = Logger(service="stylebot", child=True)

# Time kept back from the Lambda timeout to tell the user and free their state if the budget runs out.
SAFETY_MARGIN_SECONDS = 30.0


@cache
def worker_runner() -> JobRunner:
    return make_runner(get_settings(), MLEngine())


def run_job(job: JobPayload, context: LambdaContext, metrics: Metrics) -> dict[str, str]:
    """Run one job within the invocation's remaining time; record metrics."""
    logger.append_keys(job_id=job.job_id)
    runner = worker_runner()
    seconds_left = context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS
    started = time.monotonic()
    status = runner.run(job.spec(), seconds_left)
    metrics.add_dimension(name="kind", value=job.kind)
    metrics.add_metric(name=f"Jobs{status.title()}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="JobSeconds", unit=MetricUnit.Seconds, value=time.monotonic() - started)
    return {"job_id": job.job_id, "status": status}
