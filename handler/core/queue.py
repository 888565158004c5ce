"""The queue the user sees: how many pictures are ahead of a job, from the active jobs and their start times."""

from __future__ import annotations

from collections.abc import Sequence

from handler.core.job import JobStatus
from handler.core.limits import ASYNC_EVENT_MAX_AGE_SECONDS, WORKER_TIMEOUT_SECONDS
from handler.core.ports import ActiveJob
from handler.core.texts import pictures, text

# A job item still marked active after this long is a leftover (its event was dropped and its worker died before
# anyone could write its end): it no longer holds anyone up.
QUEUE_WINDOW_SECONDS = ASYNC_EVENT_MAX_AGE_SECONDS + WORKER_TIMEOUT_SECONDS
# A worker that finishes a job updates the positions of this many waiting jobs at most (Telegram's rate limits);
# the rest see their position when they start and when it next changes within reach.
REFRESH_AT_MOST = 25


def ahead_of(job_id: str, enqueued_at: float, active: Sequence[ActiveJob]) -> int:
    """How many other active jobs (queued or running) were started before this one. (A store may keep the start
    time rounded: the job's own item never counts as ahead of it.)"""
    return sum(1 for a in active if a.job.job_id != job_id and (a.enqueued_at, a.job.job_id) < (enqueued_at, job_id))


def is_waiting(ahead: int, concurrency: int) -> bool:
    """Whether a job with `ahead` jobs before it waits for a worker (0: no cap, nobody waits)."""
    return concurrency > 0 and ahead >= concurrency


def waiting(active: Sequence[ActiveJob], concurrency: int) -> list[tuple[ActiveJob, int]]:
    """The queued jobs that wait for a worker, with how many are ahead of each, oldest first."""
    ordered = sorted(active, key=lambda a: (a.enqueued_at, a.job.job_id))
    found = [
        (a, ahead) for ahead, a in enumerate(ordered) if a.status == JobStatus.QUEUED and is_waiting(ahead, concurrency)
    ]
    return found[:REFRESH_AT_MOST]


def waiting_text(ahead: int, language: str) -> str:
    return text("job_waiting", language, ahead=pictures(ahead, language))
