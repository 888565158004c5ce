"""Local mode's job dispatcher: a pool of worker processes instead of an asynchronous Lambda invocation."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from handler.core.job import Job
from handler.observability import logger

# Runs one job in a worker process from its JSON and returns its final status. The pool pickles it by name, so
# it must be a module-level function.
RunJob = Callable[[str], str]


class LocalPoolDispatcher:
    """Runs jobs in `max_workers` processes; a job whose process dies or raises goes to `on_lost`, which tells the
    user (the counterpart of the Lambda on-failure destination)."""

    def __init__(self, run_job: RunJob, on_lost: Callable[[Job], object], max_workers: int) -> None:
        # "spawn": a clean interpreter per worker, nothing inherited from the bot's event loop.
        self._pool = ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"))
        self._run_job = run_job
        self._on_lost = on_lost

    def dispatch(self, job: Job) -> None:
        future = self._pool.submit(self._run_job, job.to_json())
        future.add_done_callback(lambda done: self._finished(job, done))

    def _finished(self, job: Job, done: Future[str]) -> None:
        error = done.exception()
        if error is None:
            logger.info("local job finished", extra={"job_id": job.job_id, "status": done.result()})
            return
        logger.error("local job failed", extra={"job_id": job.job_id, "error_type": type(error).__name__})
        self._on_lost(job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
