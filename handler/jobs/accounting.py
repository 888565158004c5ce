"""The worker's books: what each invocation cost, the metrics of the jobs it ran, and the queue behind it.

After every invocation the worker adds its run time to the day's budget (the fact only it knows), records the
job it ran for /stats, publishes the job's metrics, and updates the "waiting: N pictures ahead of yours" line of
the jobs still waiting, whose positions just moved.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit

from handler.core.job import Job, JobStatus, Untouched
from handler.core.keyboards import progress_keyboard
from handler.core.metric_names import FINAL, Dimension, Metric
from handler.core.ports import JobQueue, Messenger, RateLimited, StateStore, Usage
from handler.core.queue import QUEUE_WINDOW_SECONDS, positions_to_show, waiting, waiting_text
from handler.core.quotas import day_key, quota_kind
from handler.core.stats import JobRecord
from handler.observability import emit, logger

MB_PER_GB = 1024


@dataclass
class Accounting:
    usage: Usage
    queue: JobQueue
    store: StateStore
    messenger: Messenger
    budget_seconds: float
    concurrency: int
    wall: Callable[[], float] = time.time
    _waits: dict[str, float | None] = field(default_factory=dict)

    def claimed(self, job: Job) -> None:
        """The runner claimed `job` (its `on_claim`): it started, after waiting since its Start."""
        kind = {Dimension.KIND: quota_kind(job.kind, job.quality)}
        emit(Metric.JOBS_STARTED, 1, dimensions=kind)
        wait = None if job.enqueued_at is None else max(0.0, self.wall() - job.enqueued_at)
        self._waits[job.job_id] = wait
        if wait is not None:
            emit(Metric.QUEUE_WAIT, wait, MetricUnit.Seconds, dimensions=kind)

    def finished(self, job: Job, status: JobStatus | Untouched, seconds: float, memory_mb: int) -> None:
        """One invocation of the worker ended after `seconds` with `job` in `status`. Never raises: the books
        must not fail a job that is over."""
        try:
            self._book(job, status, seconds, memory_mb)
        except Exception:
            logger.exception("the job's accounting failed", extra={"job_id": job.job_id})
        try:
            self.refresh_queue(finished=job.job_id, cap=job.worker_cap)
        except Exception:
            logger.exception("the queue's positions could not be updated")

    def _book(self, job: Job, status: JobStatus | Untouched, seconds: float, memory_mb: int) -> None:
        day = day_key(self.wall())
        total = self.usage.add_worker_seconds(day, seconds, seconds * memory_mb / MB_PER_GB)
        if self.budget_seconds > 0:
            emit(Metric.BUDGET_USED, 100 * total / self.budget_seconds, MetricUnit.Percent)
        if job.job_id not in self._waits or not isinstance(status, JobStatus) or status not in FINAL:
            return  # not run by this invocation (a duplicate, a job cancelled or erased before its claim)
        kind = quota_kind(job.kind, job.quality)
        emit(FINAL[status], 1, dimensions={Dimension.KIND: kind})
        emit(
            Metric.JOB_SECONDS,
            seconds,
            MetricUnit.Seconds,
            dimensions={Dimension.KIND: kind, Dimension.SIZE: str(job.size)},
        )
        record = JobRecord(uuid.uuid4().hex[:16], kind, job.size, status, seconds, self._waits.pop(job.job_id))
        self.usage.record_job(day, record)

    def refresh_queue(self, *, finished: str | None = None, cap: int | None = None) -> int:
        """Show each waiting job how many pictures are now ahead of it; returns how many were updated. `cap` is
        the worker cap the stack applied, as the finished job brought it; the worker's own setting otherwise."""
        active = [a for a in self.queue.active_jobs(self.wall() - QUEUE_WINDOW_SECONDS) if a.job.job_id != finished]
        updated = 0
        for entry, ahead in waiting(active, self.concurrency if cap is None else cap):
            try:
                updated += self._show_position(entry.job, ahead)
            except RateLimited:
                logger.info("queue positions paused by Telegram")
                break
        return updated

    def _show_position(self, job: Job, ahead: int) -> bool:
        """Edit the job's message to `ahead` pictures, and to any lower count wanted meanwhile, if this worker is
        the one to edit it (`positions_to_show`); whether it edited."""
        if job.progress_message_id is None:
            return False
        edited = False
        with closing(positions_to_show(self.queue, job.user_id, job.job_id, ahead, self.wall)) as counts:
            generation = None
            for count in counts:
                if generation is None:
                    generation = self.store.load(job.user_id).generation
                keyboard = progress_keyboard(job.language)
                text = waiting_text(count, job.language)
                if not self.messenger.edit_text(job.chat_id, job.progress_message_id, text, keyboard, generation):
                    break  # the message is gone
                edited = True
        return edited
