"""The queue the user sees: how many pictures are ahead of a job, from the active jobs and their start times."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Sequence

from handler.core.job import JobStatus
from handler.core.limits import ASYNC_EVENT_MAX_AGE_SECONDS, POSITION_LEASE_SECONDS, WORKER_TIMEOUT_SECONDS
from handler.core.ports import ActiveJob, JobQueue, PositionLease
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


def positions_to_show(
    queue: JobQueue, user_id: int, job_id: str, ahead: int, clock: Callable[[], float]
) -> Generator[int, None, None]:
    """The counts this writer must now show on a queued job's message, one at a time, each lower than the one
    before; the caller edits the message to each before it asks for the next, and closes the iterator if an edit
    fails (`contextlib.closing`).

    Several writers compute a job's position at once (the webhook after Start, every worker that finishes a job),
    from readings of the queue taken at different moments, and each edit takes a while to reach Telegram. So that
    the user never sees the count go up, one writer at a time edits: the holder of the job's refresh lease.
    A writer first lowers the count the job wants (`want_position`; nothing to do if a count as low is wanted
    already), then takes the lease; if someone holds it, that holder shows the new count: before letting the lease
    go it checks, in the same atomic write, that nothing lower is wanted than what it showed, and else edits again.
    A lowering always lands before its writer tries the lease, so it is never lost between the two. The lease
    runs out (POSITION_LEASE_SECONDS, longer than any edit takes), so a writer that dies holding it stops nobody
    for long.
    """
    if not queue.want_position(user_id, job_id, ahead):
        return  # this count, or a lower one, is being shown by whoever wanted it
    holder = uuid.uuid4().hex
    now = clock()
    lease: PositionLease | None = queue.take_refresh(
        user_id, job_id, holder, now=now, until=now + POSITION_LEASE_SECONDS
    )
    try:
        while lease is not None:
            shown = lease.shown
            if shown is None or lease.wanted < shown:
                shown = lease.wanted
                yield shown
            lease = queue.end_refresh(user_id, job_id, holder, shown, until=clock() + POSITION_LEASE_SECONDS)
    finally:
        if lease is not None:  # the caller stopped at an edit that failed: let the next writer edit at once
            queue.release_refresh(user_id, job_id, holder)
