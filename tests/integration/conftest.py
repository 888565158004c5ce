"""Fixtures of the end-to-end tests: people chatting with the webhook under the Lambda emulator."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from infra.local.lambda_service import LocalLambdaService
from tests.driver import Person
from tests.pipeline import Pipeline, running_pipeline

_user_ids = itertools.count(700_000)


@pytest.fixture
def store(aws_clients: dict[str, Any], tables: dict[str, str]) -> DynamoDBStore:
    """The DynamoDB adapter on the test table, for reading what the bot stored."""
    return DynamoDBStore(aws_clients["dynamodb"], tables["StateTable"], claim_ttl_seconds=3600)


@pytest.fixture
def person(webhook: EmulatedFunction, telegram: FakeBotApi) -> Callable[..., Person]:
    """Make a new person (a fresh user id) chatting with the bot."""

    def make(language: str = "en") -> Person:
        return Person(webhook, telegram, next(_user_ids), language)

    return make


@pytest.fixture(scope="module")
def pipeline(
    lambda_service: LocalLambdaService,
    function_env: dict[str, str],
    tables: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    """The worker and the failure notifier behind the Lambda service, for this module's tests."""
    with running_pipeline(
        lambda_service, function_env, tables["IdempotencyTable"], tmp_path_factory.mktemp("weights")
    ) as running:
        yield running
