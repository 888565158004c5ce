"""The daily counters, the queue and the worker's books, for the functions that use them (the webhook and the
worker; not the failure destination, whose policy grants none of their calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handler.core.ports import JobQueue, Usage
from handler.jobs.accounting import Accounting
from handler.jobs.runner import JobRunner
from handler.settings import Settings
from handler.wiring.parts import dynamodb_client

if TYPE_CHECKING:
    from handler.adapters.dynamodb_usage import DynamoDBJobQueue, DynamoDBUsage


def dynamodb_usage(table: str) -> tuple[DynamoDBUsage, DynamoDBJobQueue]:
    """The daily counters and the queue's view of job items, on the state table."""
    from handler.adapters.dynamodb_usage import DynamoDBJobQueue, DynamoDBUsage

    return DynamoDBUsage(dynamodb_client(), table), DynamoDBJobQueue(dynamodb_client(), table)


def accounting(settings: Settings, runner: JobRunner, usage: Usage, queue: JobQueue, concurrency: int) -> Accounting:
    """The worker's books on the runner's store and messenger; the runner tells them of every claim."""
    books = Accounting(usage, queue, runner.store, runner.messenger, settings.daily_budget_worker_seconds, concurrency)
    runner.on_claim = books.claimed
    return books
