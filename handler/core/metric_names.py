"""The names of every custom CloudWatch metric (namespace `Stylebot`, Powertools EMF) and of their dimensions.

Defined once: the code emits them through `handler.observability.emit`, template.yaml's dashboard and alarms name
them, and tests/deploy/test_dashboard.py checks that the two agree both ways.
"""

from __future__ import annotations

from enum import StrEnum

from handler.core.job import JobStatus


class Metric(StrEnum):
    JOBS_STARTED = "JobsStarted"  # the worker claimed a job (kind)
    JOBS_DONE = "JobsDone"  # (kind)
    JOBS_FAILED = "JobsFailed"  # (kind)
    JOBS_CANCELLED = "JobsCancelled"  # (kind)
    JOBS_LOST = "JobsLost"  # the failure destination failed a job whose worker died (kind)
    JOBS_EXPIRED = "JobsExpired"  # a job waited past the async event age and was dropped (kind)
    JOB_SECONDS = "JobSeconds"  # a worker invocation's run time (kind, size)
    QUEUE_WAIT = "QueueWait"  # from Start to the worker's claim (kind)
    QUOTA_REFUSALS = "QuotaRefusals"  # a Start refused by the user's daily quota (kind)
    BUDGET_REFUSALS = "BudgetRefusals"  # a Start refused by the daily budget's pause (kind)
    BUDGET_USED = "BudgetUsedPercent"  # today's worker-seconds as a share of the daily budget


class Dimension(StrEnum):
    KIND = "kind"  # a QuotaKind: quick, best, preset
    SIZE = "size"  # the output size in px


# The metric of a job's final status, as the worker reports it.
FINAL = {
    JobStatus.DONE: Metric.JOBS_DONE,
    JobStatus.FAILED: Metric.JOBS_FAILED,
    JobStatus.CANCELLED: Metric.JOBS_CANCELLED,
}
