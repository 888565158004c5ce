"""Fixtures of the end-to-end tests: people chatting with the webhook under the Lambda emulator."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.driver import Person

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
