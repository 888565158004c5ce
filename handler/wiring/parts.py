"""Adapters that more than one entry point builds: each is made here, in one function."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from handler import credentials
from handler.adapters.telegram_gateway import BlockingTelegram
from handler.core.ports import Engine, StateStore
from handler.jobs.runner import JobRunner
from handler.settings import Settings
from handler.wiring.telegram import blocking_telegram

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from handler.adapters.dynamodb import DynamoDBStore


@cache
def dynamodb_client() -> DynamoDBClient:
    """The process's one DynamoDB client."""
    import boto3

    from handler.adapters.dynamodb import client_config

    return boto3.client("dynamodb", config=client_config())


def dynamodb_store(settings: Settings, table: str) -> DynamoDBStore:
    """The state store on the stack's DynamoDB table (the webhook, the worker and the failure destination)."""
    from handler.adapters.dynamodb import DynamoDBStore

    return DynamoDBStore(dynamodb_client(), table, claim_ttl_seconds=settings.update_claim_ttl_seconds)


def bot_messenger(settings: Settings) -> BlockingTelegram:
    """The Telegram gateway of the code that runs outside a PTB Application (the worker, the failure path)."""
    return blocking_telegram(settings, credentials.bot_token(settings).get_secret_value())


def job_runner(
    settings: Settings, store: StateStore, engine: Engine, *, stopping: Callable[[], bool] = lambda: False
) -> JobRunner:
    """The job pipeline on its ports; `stopping` says when the process that runs the jobs is going away (local
    mode's workers; a Lambda worker never is)."""
    return JobRunner(
        store, bot_messenger(settings), engine, lost_grace=settings.lost_job_grace_seconds, stopping=stopping
    )
