"""Wiring of the worker function: DynamoDB, the Bot API messenger, the ML engine (torch) and idempotency."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from handler.adapters.ml_engine import MLEngine
from handler.core.limits import IDEMPOTENCY_TTL_SECONDS
from handler.jobs.accounting import Accounting
from handler.jobs.runner import JobRunner
from handler.settings import WorkerSettings, load_settings
from handler.wiring.parts import dynamodb_store, job_runner
from handler.wiring.usage import accounting as books_of
from handler.wiring.usage import dynamodb_usage


@cache
def settings() -> WorkerSettings:
    """The worker's settings, checked once (at import of the entry point)."""
    return load_settings(WorkerSettings, "WorkerFunction")


def idempotency() -> tuple[IdempotencyConfig, DynamoDBPersistenceLayer]:
    """A duplicate delivery of the same job (Lambda's async queue is at-least-once) returns the first result."""
    config = IdempotencyConfig(event_key_jmespath="job_id", expires_after_seconds=IDEMPOTENCY_TTL_SECONDS)
    return config, DynamoDBPersistenceLayer(table_name=settings().idempotency_table)


@cache
def runner() -> JobRunner:
    """The job runner of this container, with the models (made on the first job)."""
    config = settings()
    usage, _ = dynamodb_usage(config.state_table)
    return job_runner(config, dynamodb_store(config, config.state_table), MLEngine(paces=usage))


@cache
def accounting() -> Accounting:
    """The worker's books: the day's budget, job records, metrics and the queue's positions."""
    config = settings()
    usage, queue = dynamodb_usage(config.state_table)
    return books_of(config, runner(), usage, queue, config.worker_concurrency)
