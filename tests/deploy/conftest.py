"""Fixtures of the deployment tests: CloudFormation's side of a custom resource, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.cloudformation import CloudFormationResponses
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction


@pytest.fixture(scope="session")
def cfn_responses() -> Iterator[CloudFormationResponses]:
    server = CloudFormationResponses().start()
    yield server
    server.stop()


def registration_env(aws_env: dict[str, str], api_base_url: str) -> dict[str, str]:
    """What template.yaml gives WebhookRegistrationFunction, pointed at the local servers."""
    return {
        **aws_env,
        "TELEGRAM_API_BASE_URL": api_base_url,
        "POWERTOOLS_SERVICE_NAME": "stylebot",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def registration(aws_env: dict[str, str], bot_api: FakeBotApi) -> Iterator[EmulatedFunction]:
    """WebhookRegistrationFunction of template.yaml in one emulated execution environment."""
    function = EmulatedFunction(
        "WebhookRegistrationFunction", registration_env(aws_env, bot_api.url), timeout_seconds=60, memory_mb=256
    ).start()
    yield function
    function.stop()
