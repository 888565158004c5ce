"""What one invocation of the worker or of its failure destination does with a job, on a runner made elsewhere."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from handler.core.job import Job
from handler.jobs.runner import JobRunner
from handler.observability import logger


def run_job(runner: JobRunner, job: Job, seconds_left: float, metrics: Metrics) -> dict[str, str]:
    """Run one job within `seconds_left`; record its outcome and duration."""
    logger.append_keys(job_id=job.job_id)
    started = time.monotonic()
    status = runner.run(job, seconds_left)
    metrics.add_dimension(name="kind", value=job.kind)
    metrics.add_metric(name=f"Jobs{status.title()}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="JobSeconds", unit=MetricUnit.Seconds, value=time.monotonic() - started)
    return {"job_id": job.job_id, "status": status}


def notify_lost_job(runner: JobRunner, record: dict[str, Any], metrics: Metrics) -> dict[str, str]:
    """An on-failure destination record of the worker: tell the user (once) and free them."""
    job = Job.model_validate(record["requestPayload"])
    logger.append_keys(job_id=job.job_id)
    logger.warning(
        "worker invocation failed for good",
        extra={"condition": record.get("requestContext", {}).get("condition"), "error": record.get("responsePayload")},
    )
    error_type = (record.get("responsePayload") or {}).get("errorType")
    status = runner.fail_lost(job, error_type)
    metrics.add_metric(name="JobsLost", unit=MetricUnit.Count, value=1)
    return {"job_id": job.job_id, "status": status}
