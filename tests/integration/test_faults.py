"""Faults: the state store going away for a moment."""

from __future__ import annotations

import time

from infra.local.dynamodb import LocalDynamoDB
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.conftest import WEBHOOK_SECRET
from tests.factories import api_gateway_event, message_update


def test_store_outage_makes_telegram_redeliver_and_the_update_is_processed_once(
    function_env: dict[str, str], telegram: FakeBotApi, dynamodb_server: LocalDynamoDB
) -> None:
    # Given a warm webhook (its secrets already read; claims left by a dead delivery go stale after 3 s rather
    # than 40 s, to keep the test short) and an update from a user
    webhook = EmulatedFunction("WebhookFunction", {**function_env, "UPDATE_CLAIM_STALE_SECONDS": "3"}).start()
    webhook.invoke(api_gateway_event(message_update("/help", user_id=991_001), secret=WEBHOOK_SECRET))
    event = api_gateway_event(message_update("/start", user_id=991_002), secret=WEBHOOK_SECRET)
    # When the DynamoDB endpoint stops answering while the update arrives
    dynamodb_server.pause()
    try:
        during = webhook.invoke(event, timeout=120)
    finally:
        dynamodb_server.resume()
    # Then the webhook answers non-2xx, so that Telegram delivers the update again, and the user got nothing yet
    assert during["statusCode"] >= 500
    assert telegram.calls_to("sendMessage", chat_id=991_002) == []
    # When Telegram redelivers it, twice, once the store is back (the write the outage held up may land late:
    # it leaves a claim nobody finishes, which goes stale)
    time.sleep(3.5)
    after = [webhook.invoke(event)["statusCode"] for _ in range(2)]
    webhook.stop()
    # Then it is processed exactly once
    assert after == [200, 200]
    assert len(telegram.calls_to("sendMessage", chat_id=991_002)) == 1
