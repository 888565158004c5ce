"""Local mode's job dispatcher: a pool of worker processes instead of an asynchronous Lambda invocation."""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from handler.core.job import Job
from handler.observability import logger

# Runs one job in a worker process from its JSON and returns its final status. The pool pickles it by name, so
# it must be a module-level function.
RunJob = Callable[[str], str]


def _leave_interrupts_to_the_bot() -> None:
    """In each worker process: Ctrl+C in a terminal interrupts every process of the group, and a worker
    interrupted mid-job (or while it waits for one) dies with a traceback. The bot's process stops the jobs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalPoolDispatcher:
    """Runs jobs in `max_workers` processes; a job whose process dies or raises goes to `on_lost`, which tells the
    user (the counterpart of the Lambda on-failure destination). On `shutdown`, every job not finished yet goes to
    `on_stopped`, which fails it and tells its user; its worker sees that at its next cancel check (at most a
    second or so later) and stops without sending anything."""

    def __init__(
        self,
        run_job: RunJob,
        on_lost: Callable[[Job], object],
        max_workers: int,
        on_stopped: Callable[[Job], object],
    ) -> None:
        # "spawn": a clean interpreter per worker, nothing inherited from the bot's event loop.
        self._pool = ProcessPoolExecutor(
            max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_leave_interrupts_to_the_bot,
        )
        self._run_job = run_job
        self._on_lost = on_lost
        self._on_stopped = on_stopped
        self._lock = threading.Lock()
        self._unfinished: dict[str, Job] = {}
        self._stopping = False

    def dispatch(self, job: Job) -> None:
        with self._lock:
            self._unfinished[job.job_id] = job
        future = self._pool.submit(self._run_job, job.to_json())
        future.add_done_callback(lambda done: self._finished(job, done))

    def _finished(self, job: Job, done: Future[str]) -> None:
        with self._lock:
            self._unfinished.pop(job.job_id, None)
            stopping = self._stopping
        if done.cancelled():  # never started: the shutdown stopped it and told its user
            return
        error = done.exception()
        if error is None:
            logger.info("local job finished", extra={"job_id": job.job_id, "status": done.result()})
            return
        logger.error("local job failed", extra={"job_id": job.job_id, "error_type": type(error).__name__})
        if not stopping:
            self._on_lost(job)

    def shutdown(self) -> int:
        """Stop every job not finished yet (its user told once), wait for the workers to let go, and end the pool;
        returns how many jobs were stopped."""
        with self._lock:
            self._stopping = True
            unfinished = list(self._unfinished.values())
        for job in unfinished:
            self._on_stopped(job)
        self._pool.shutdown(wait=True, cancel_futures=True)
        return len(unfinished)
