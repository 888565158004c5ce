"""What one invocation of the worker or of its failure destination does with a job, on a runner made elsewhere."""

from __future__ import annotations

import time
from typing import Any

from handler.core.job import Job
from handler.core.metric_names import Dimension, Metric
from handler.core.quotas import quota_kind
from handler.jobs.accounting import Accounting
from handler.jobs.runner import JobRunner
from handler.observability import emit, logger

# The on-failure record's condition for an event Lambda dropped because it waited past MaximumEventAgeInSeconds.
EVENT_AGE_EXCEEDED = "EventAgeExceeded"


def run_job(runner: JobRunner, accounting: Accounting, job: Job, seconds_left: float, memory_mb: int) -> dict[str, str]:
    """Run one job within `seconds_left`; then book its cost and metrics, and move the queue on."""
    logger.append_keys(job_id=job.job_id)
    started = time.monotonic()
    status = runner.run(job, seconds_left)
    accounting.finished(job, status, time.monotonic() - started, memory_mb)
    return {"job_id": job.job_id, "status": status}


def notify_lost_job(runner: JobRunner, record: dict[str, Any]) -> dict[str, str]:
    """An on-failure destination record of the worker: tell the user (once) and free them."""
    job = Job.model_validate(record["requestPayload"])
    logger.append_keys(job_id=job.job_id)
    condition = record.get("requestContext", {}).get("condition")
    logger.warning(
        "worker invocation failed for good", extra={"condition": condition, "error": record.get("responsePayload")}
    )
    error_type = (record.get("responsePayload") or {}).get("errorType")
    status = runner.fail_lost(job, error_type, expired=condition == EVENT_AGE_EXCEEDED)
    emit(Metric.JOBS_LOST, 1, dimensions={Dimension.KIND: quota_kind(job.kind, job.quality)})
    return {"job_id": job.job_id, "status": status}
