"""Wiring of local mode (`make run`): the SQLite store, a pool of worker processes, long polling."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from telegram.ext import Application

from handler import credentials
from handler.adapters.asyncio_timer import AsyncioTimer
from handler.adapters.local_dispatch import LocalPoolDispatcher, stop_requested
from handler.adapters.presets import PreviewFiles, catalogue
from handler.adapters.sqlite import SQLiteStore
from handler.adapters.sqlite_usage import SQLiteUsage
from handler.adapters.telegram_gateway import WEBHOOK
from handler.bot.application import build_application
from handler.bot.commands import register_menus
from handler.bot.dialog import Deps, wake
from handler.core.inputs import Catalogue
from handler.core.job import Job
from handler.core.limits import JOB_BUDGET_SECONDS
from handler.jobs.accounting import Accounting
from handler.jobs.invocation import run_job
from handler.jobs.runner import JobRunner, NoEngine
from handler.settings import Settings, get_settings
from handler.wiring.parts import job_runner
from handler.wiring.telegram import telegram_bot, telegram_gateway
from handler.wiring.usage import accounting


def sqlite_store(settings: Settings) -> SQLiteStore:
    """The embedded state store, shared by the bot's process and the workers' through one file."""
    return SQLiteStore(settings.local_state_path, claim_ttl_seconds=settings.update_claim_ttl_seconds)


@cache
def _worker_runner() -> tuple[JobRunner, Accounting]:
    """One runner per worker process: the store, the Bot API client and the models are made once."""
    from handler.adapters.ml_engine import MLEngine

    settings = get_settings()
    usage = SQLiteUsage(settings.local_state_path)
    runner = job_runner(settings, sqlite_store(settings), MLEngine(paces=usage), stopping=stop_requested)
    return runner, accounting(settings, runner, usage, usage, settings.local_workers)


def run_local_job(job: str) -> str:
    """Run one job (its JSON) in a worker process (the pool's target) with the Lambda worker's budget."""
    runner, books = _worker_runner()
    # Local mode bills nothing: its worker-seconds count against the budget, its GB-seconds are none.
    return run_job(runner, books, Job.model_validate_json(job), JOB_BUDGET_SECONDS, memory_mb=0)["status"]


@dataclass(frozen=True)
class LocalBot:
    """What `make run` runs: the bot, its pool of workers, and what it offers."""

    app: Application  # type: ignore[type-arg]
    dispatcher: LocalPoolDispatcher  # shut it down when the bot stops: it stops the jobs not finished
    offer: Catalogue  # what can run here, from the weights present


def local_bot(settings: Settings) -> LocalBot:
    """The long-polling Application (it registers the command menus as it starts) and the pool its jobs run in."""
    store = sqlite_store(settings)
    # A job whose worker process died is failed and the user told, as the Lambda failure destination does; so is a
    # job no worker took when the bot stops (a running one is stopped by its worker).
    notifier = job_runner(settings, store, NoEngine())
    dispatcher = LocalPoolDispatcher(run_local_job, notifier.fail_lost, settings.local_workers, notifier.stop)
    bot = telegram_bot(settings, credentials.bot_token(settings).get_secret_value())
    usage = SQLiteUsage(settings.local_state_path)
    offer = catalogue()
    deps = Deps(
        store=store,
        dispatcher=dispatcher,
        # The bot's replies take the webhook's road: a person waits for them in both modes.
        telegram=telegram_gateway(bot, WEBHOOK),
        catalogue=offer,
        usage=usage,
        queue=usage,
        limits=settings.operator_limits,
        concurrency=settings.local_workers,
        price_per_gb_second=settings.lambda_price_per_gb_second,
        # An album's wakeup: a task on the bot's event loop, acting on these same deps.
        timer=AsyncioTimer(lambda wakeup: wake(deps, wakeup)),
        previews=PreviewFiles(),
    )
    app = build_application(bot, deps, with_updater=True)

    async def at_start(_: Application) -> None:  # type: ignore[type-arg]
        await register_menus(deps.telegram)

    app.post_init = at_start
    return LocalBot(app, dispatcher, offer)
