"""Strangers at the webhook: whatever they post, nothing crashes and the bot never acts without the secret."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.conftest import BOT_TOKEN, WEBHOOK_SECRET
from tests.factories import api_gateway_event, message_update

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda extra: json.dumps({**message_update("/start"), **extra}).encode(),
        st.dictionaries(st.text(max_size=8), JSON, max_size=3),
    ),
)
SECRETS = st.one_of(
    st.none(), st.just(""), st.text(max_size=80), st.just(WEBHOOK_SECRET[:-1]), st.just(WEBHOOK_SECRET.upper())
)


def as_event(body: bytes, secret: str | None, base64_body: bool, method: str) -> dict[str, Any]:
    """The API Gateway event; a body that is not base64-encoded travels as (lossily decoded) text."""
    event = api_gateway_event(body, secret=secret, base64_body=True, method=method)
    if not base64_body:
        event["body"] = body.decode("utf-8", errors="replace")
        event["isBase64Encoded"] = False
    return event


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, secret=SECRETS, base64_body=st.booleans(), method=st.sampled_from(["POST", "GET", "PUT"]))
def test_without_the_secret_nothing_happens_whatever_the_request(
    webhook: EmulatedFunction, bot_api: FakeBotApi, body: bytes, secret: str | None, base64_body: bool, method: str
) -> None:
    # Given a request from someone who does not know the secret
    event = as_event(body, secret, base64_body, method)
    before = len(bot_api.calls)
    # When it reaches the webhook
    response = webhook.invoke(event)
    # Then the answer is a plain 403, and the Bot API heard nothing
    assert response["statusCode"] == 403
    assert len(bot_api.calls) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, base64_body=st.booleans())
def test_with_the_secret_any_body_is_answered_without_a_crash(
    webhook: EmulatedFunction, bot_api: FakeBotApi, body: bytes, base64_body: bool
) -> None:
    # Given any body at all, with the right secret (a broken proxy, a future Telegram update type...)
    event = as_event(body, WEBHOOK_SECRET, base64_body, "POST")
    # When it reaches the webhook
    response: dict[str, Any] = webhook.invoke(event)
    # Then the webhook answers (no function error): 200 for an update, 400 for anything else
    assert response.get("statusCode") in (200, 400), response


def test_the_token_and_the_secret_never_reach_the_logs(webhook: EmulatedFunction, bot_api: FakeBotApi) -> None:
    # Given whole flows through the webhook, including failures and refusals
    webhook.invoke(api_gateway_event(message_update("/start", user_id=990_001), secret=WEBHOOK_SECRET))
    webhook.invoke(api_gateway_event(message_update("/settings", user_id=990_001), secret=WEBHOOK_SECRET))
    webhook.invoke(api_gateway_event(message_update("/start"), secret="wrong"))
    # (a 500 on every attempt at the reply: a single one is made again and no longer fails the update)
    bot_api.fail_next("sendMessage", 500, "Internal Server Error", times=3)
    webhook.invoke(api_gateway_event(message_update("/help", user_id=990_001), secret=WEBHOOK_SECRET))
    # Then the function's logs hold neither the bot token nor the webhook secret, in any encoding
    logs = webhook.logs()
    # (they did log: the refusal and the failed reply are there)
    assert "without the right secret" in logs and "update failed" in logs
    for secret in (BOT_TOKEN, WEBHOOK_SECRET, BOT_TOKEN.split(":")[1]):
        for form in (secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1]):
            assert form not in logs
