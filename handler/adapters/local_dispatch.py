"""Local mode's job dispatcher: a pool of worker processes instead of an asynchronous Lambda invocation."""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.synchronize import Event

from handler.core.job import Job
from handler.observability import logger

# Runs one job in a worker process from its JSON and returns its final status. The pool pickles it by name, so
# it must be a module-level function.
RunJob = Callable[[str], str]

# In a worker process: set when the bot's process stops (see `stop_requested`).
_stop: Event | None = None


def _start_worker(stop: Event) -> None:
    """In each worker process, before its first job. Ctrl+C in a terminal interrupts every process of the group,
    and a worker interrupted mid-job (or while it waits for one) would die with a traceback: the workers leave
    it to the bot's process, which stops them through `stop`."""
    global _stop
    _stop = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_requested() -> bool:
    """In a worker process: whether the bot is stopping (a running job then stops at its next cancel check)."""
    return _stop is not None and _stop.is_set()


class LocalPoolDispatcher:
    """Runs jobs in `max_workers` processes; a job whose process dies or raises goes to `on_lost`, which tells the
    user (the counterpart of the Lambda on-failure destination).

    `shutdown` stops the jobs not finished: a job a worker has taken stops at its next cancel check (its runner's
    `stopping` is `stop_requested`), and that worker tells its user and ends its progress message; a job no
    worker took goes to `on_stopped`, which does the same from here."""

    def __init__(
        self,
        run_job: RunJob,
        on_lost: Callable[[Job], object],
        max_workers: int,
        on_stopped: Callable[[Job], object],
    ) -> None:
        # "spawn": a clean interpreter per worker, nothing inherited from the bot's event loop.
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._pool = ProcessPoolExecutor(
            max_workers, mp_context=context, initializer=_start_worker, initargs=(self._stop,)
        )
        self._run_job = run_job
        self._on_lost = on_lost
        self._on_stopped = on_stopped
        self._lock = threading.Lock()
        self._unfinished: set[str] = set()

    def dispatch(self, job: Job) -> None:
        with self._lock:
            self._unfinished.add(job.job_id)
        future = self._pool.submit(self._run_job, job.to_json())
        future.add_done_callback(lambda done: self._finished(job, done))

    def _finished(self, job: Job, done: Future[str]) -> None:
        with self._lock:
            self._unfinished.discard(job.job_id)
        if done.cancelled():  # no worker took it before the bot stopped
            self._on_stopped(job)
            return
        error = done.exception()
        if error is None:
            logger.info("local job finished", extra={"job_id": job.job_id, "status": done.result()})
            return
        logger.error("local job failed", extra={"job_id": job.job_id, "error_type": type(error).__name__})
        self._on_lost(job)

    def shutdown(self) -> int:
        """Stop every job not finished (each user told once), wait for the workers to let go, and end the pool;
        returns how many jobs were stopped."""
        with self._lock:
            stopped = len(self._unfinished)
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        return stopped
