"""Quotas, the budget and the queue around a Start: what the webhook reads before deciding, and does after.

Kept apart from the dialog's glue: `handler.bot.dialog` calls these at three points (reading the allowance,
handing a job over, counting a refusal).
"""

from __future__ import annotations

from handler.core.inputs import Input, Picture, Tap
from handler.core.job import Job
from handler.core.metric_names import Dimension, Metric
from handler.core.ports import JobQueue, Usage
from handler.core.queue import QUEUE_WINDOW_SECONDS, ahead_of, is_waiting
from handler.core.quotas import (
    Allowance,
    Limits,
    QuotaKind,
    Refusal,
    RefusalReason,
    budget_level,
    day_key,
    next_reset,
)
from handler.observability import emit, logger

REFUSAL_METRICS = {RefusalReason.QUOTA: Metric.QUOTA_REFUSALS, RefusalReason.BUDGET: Metric.BUDGET_REFUSALS}


def needs_allowance(event: Input) -> bool:
    """Only a tap or a picture can show the options or start a job: other inputs skip the counters' read."""
    return isinstance(event, Tap | Picture)


def read_allowance(usage: Usage | None, limits: Limits, user_id: int, event: Input, now: float) -> Allowance:
    """Today's counters for the user, as the decision sees them (one read of the store, only where it matters)."""
    if usage is None or not needs_allowance(event):
        return Allowance()
    used, spent = usage.todays_counts(user_id, day_key(now))
    return Allowance(
        used=used,
        limits={kind: limits.limit(user_id, kind) for kind in QuotaKind},
        budget=budget_level(spent, limits.budget_seconds),
        resets_at=next_reset(now),
        # The Bot API tells a bot no user's time zone: resets are shown in UTC.
        time_zone=None,
    )


def count_refusal(usage: Usage | None, refusal: Refusal, now: float) -> None:
    """A refused Start: counted for /stats and as a metric."""
    emit(REFUSAL_METRICS[refusal.reason], 1, dimensions={Dimension.KIND: refusal.kind})
    if usage is not None and refusal.reason == RefusalReason.QUOTA:
        usage.count_refusal(day_key(now), refusal.kind)
    logger.info("start refused", extra={"reason": refusal.reason, "kind": refusal.kind})


def take_quota(usage: Usage | None, limits: Limits, user_id: int, kind: QuotaKind, now: float) -> bool:
    """Count a job against the user's quota `kind` with one conditional update: the exact guard behind the
    decision's read (False: a concurrent Start took the last one)."""
    if usage is None:
        return True
    return usage.take_quota(user_id, day_key(now), kind, limits.limit(user_id, kind))


def position(queue: JobQueue | None, concurrency: int, job: Job, now: float) -> int | None:
    """How many pictures are ahead of a job that must wait for a worker; None when it need not wait."""
    if queue is None or job.enqueued_at is None:
        return None
    ahead = ahead_of(job.job_id, job.enqueued_at, queue.active_jobs(now - QUEUE_WINDOW_SECONDS))
    return ahead if is_waiting(ahead, concurrency) else None
