"""Local mode's job dispatcher: a pool of worker processes instead of an asynchronous Lambda invocation."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from handler.core.state import JobSpec
from handler.jobs.runner import JobRunner

logger = Logger(service="stylebot", child=True)

# A local job gets the Lambda worker's budget (15 minutes) less the same safety margin.
LOCAL_JOB_SECONDS = 870.0


@cache
def _runner() -> JobRunner:
    """One runner per worker process: the store, the Bot API client and the models are made once."""
    from handler import credentials
    from handler.adapters.sqlite import SQLiteStore
    from handler.adapters.telegram_messenger import BotMessenger
    from handler.jobs.worker_engine import MLEngine
    from handler.settings import get_settings

    settings = get_settings()
    store = SQLiteStore(settings.local_state_path, claim_ttl_seconds=settings.update_claim_ttl_seconds)
    messenger = BotMessenger(settings, credentials.bot_token(settings).get_secret_value())
    return JobRunner(store, messenger, MLEngine())


def run_local_job(payload: dict[str, Any]) -> str:
    """Run one job in a worker process (the pool's target; must be importable by name)."""
    return _runner().run(JobSpec.from_payload(payload), LOCAL_JOB_SECONDS)


class LocalPoolDispatcher:
    """Runs jobs in `max_workers` processes; a job whose process dies is failed and the user told."""

    def __init__(self, notifier: JobRunner, max_workers: int) -> None:
        # "spawn": a clean interpreter per worker, nothing inherited from the bot's event loop.
        self._pool = ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"))
        self._notifier = notifier

    def dispatch(self, job: JobSpec) -> None:
        future = self._pool.submit(run_local_job, job.to_payload())
        future.add_done_callback(lambda done: self._finished(job, done))

    def _finished(self, job: JobSpec, done: Future[str]) -> None:
        error = done.exception()
        if error is None:
            logger.info("local job finished", extra={"job_id": job.job_id, "status": done.result()})
            return
        # The counterpart of the Lambda on-failure destination: the worker died or raised.
        logger.error("local job failed", extra={"job_id": job.job_id, "error_type": type(error).__name__})
        self._notifier.fail_lost(job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
