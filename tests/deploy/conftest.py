"""Fixtures of the deployment tests: CloudFormation's side of a custom resource, on loopback."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.cloudformation import CloudFormationResponses
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.factories import EVENTS


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


def cfn_event(kind: str, responses: CloudFormationResponses, **properties: Any) -> dict[str, Any]:
    """The stored CloudFormation request of `kind` (create/update/delete) with a fresh request id, a local
    ResponseURL, and `properties` overriding its ResourceProperties (and, for an update, its old ones too)."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"cfn-webhook-{kind}.json").read_text()))
    request_id = str(uuid.uuid4())
    event["RequestId"] = request_id
    event["ResponseURL"] = responses.url(request_id)
    event["ResourceProperties"].update(properties)
    if "OldResourceProperties" in event:
        event["OldResourceProperties"].update(properties)
    return event
