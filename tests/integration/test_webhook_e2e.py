"""The webhook end to end: API Gateway event -> Lambda emulator -> PTB -> fake Bot API, state in DynamoDB."""

from __future__ import annotations

from handler.core.texts import text
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.conftest import WEBHOOK_SECRET
from tests.factories import api_gateway_event, message_update


def test_start_gets_a_greeting_in_the_same_chat(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given a user who writes /start
    update = message_update("/start", user_id=5001)

    # When Telegram delivers it to the webhook
    response = webhook.invoke(api_gateway_event(update, secret=WEBHOOK_SECRET))

    # Then the webhook answers 200 and the user gets a greeting in the same chat
    assert response["statusCode"] == 200
    replies = telegram.calls_to("sendMessage", chat_id=5001)
    assert len(replies) == 1
    assert "Ada" in (replies[0].text or "")
    assert "/help" in (replies[0].text or "")


def test_russian_user_is_greeted_in_russian(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given a user whose Telegram is in Russian
    update = message_update("/start", user_id=5002, language_code="ru")
    # When they send /start
    webhook.invoke(api_gateway_event(update, secret=WEBHOOK_SECRET))
    # Then the greeting is in Russian
    (reply,) = telegram.calls_to("sendMessage", chat_id=5002)
    assert "Привет" in (reply.text or "")


def test_help_and_plain_text(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given a user who asks for help and then writes some text
    webhook.invoke(api_gateway_event(message_update("/help", user_id=5003), secret=WEBHOOK_SECRET))
    webhook.invoke(api_gateway_event(message_update("hello there", user_id=5003), secret=WEBHOOK_SECRET))
    # Then they get the command list, then a pointer to the menu
    help_reply, text_reply = telegram.calls_to("sendMessage", chat_id=5003)
    assert "/cancel" in (help_reply.text or "") and "/forget" in (help_reply.text or "")
    assert text_reply.text == text("idle_text", "en")


def test_rest_api_event_with_plain_body_is_accepted(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given the same update carried by a REST API (v1) event whose body is not base64-encoded
    event = api_gateway_event(
        message_update("/start", user_id=5004), secret=WEBHOOK_SECRET, base64_body=False, kind="rest-api"
    )
    # When it is delivered
    response = webhook.invoke(event)
    # Then it is processed like the HTTP API one
    assert response["statusCode"] == 200
    assert len(telegram.calls_to("sendMessage", chat_id=5004)) == 1


def test_wrong_or_missing_secret_gets_403_and_no_bot_api_call(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given a stranger who found the webhook URL
    for secret in (None, "", "wrong-secret", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET + "x"):
        # When they post an update without the right secret header
        response = webhook.invoke(api_gateway_event(message_update("/start", user_id=5005), secret=secret))
        # Then they get 403
        assert response["statusCode"] == 403, secret
    # And the bot did nothing at all on the Bot API
    assert [c.method for c in telegram.calls if c.method != "getMe"] == []


def test_same_update_delivered_twice_gets_one_reply(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given an update that Telegram delivers twice (it retries when it did not see our answer)
    update = message_update("/start", user_id=5006)
    event = api_gateway_event(update, secret=WEBHOOK_SECRET)

    # When both deliveries reach the webhook
    first = webhook.invoke(event)
    second = webhook.invoke(event)

    # Then both are acknowledged, and the user got one reply only
    assert first["statusCode"] == 200 and second["statusCode"] == 200
    assert len(telegram.calls_to("sendMessage", chat_id=5006)) == 1


def test_duplicate_is_dropped_across_execution_environments(function_env: dict[str, str], telegram: FakeBotApi) -> None:
    # Given two warm containers of the webhook (the claim must live in DynamoDB, not in memory)
    first = EmulatedFunction("WebhookFunction", function_env).start()
    second = EmulatedFunction("WebhookFunction", function_env).start()
    try:
        event = api_gateway_event(message_update("/start", user_id=5007), secret=WEBHOOK_SECRET)
        # When the same update reaches both
        assert first.invoke(event)["statusCode"] == 200
        assert second.invoke(event)["statusCode"] == 200
    finally:
        first.stop()
        second.stop()
    # Then the user got one reply
    assert len(telegram.calls_to("sendMessage", chat_id=5007)) == 1


def test_fifty_invocations_in_a_row_all_reach_telegram(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given one warm execution environment and a keep-alive Bot API server
    # When fifty updates arrive one after another
    statuses = [
        webhook.invoke(api_gateway_event(message_update(f"message {i}", user_id=5100 + i), secret=WEBHOOK_SECRET))[
            "statusCode"
        ]
        for i in range(50)
    ]
    # Then every one succeeded and every reply reached the Bot API (no "Event loop is closed")
    assert statuses == [200] * 50
    replied_to = [c.chat_id for c in telegram.calls_to("sendMessage")]
    assert replied_to == [5100 + i for i in range(50)]


def test_malformed_bodies_with_the_right_secret_are_refused_quietly(
    webhook: EmulatedFunction, telegram: FakeBotApi
) -> None:
    # Given bodies that are not Telegram updates, even though the secret is right
    for body in (b"not json", b"\xff\xfe\x00", b"[1, 2]", b'{"no_update_id": 1}', b'{"update_id": "7"}'):
        # When they are posted
        response = webhook.invoke(api_gateway_event(body, secret=WEBHOOK_SECRET))
        # Then the webhook says 400 and the bot sends nothing
        assert response["statusCode"] == 400, body
    assert [c.method for c in telegram.calls if c.method != "getMe"] == []


def test_wrong_method_is_refused(webhook: EmulatedFunction, telegram: FakeBotApi) -> None:
    # Given a GET with the right secret
    response = webhook.invoke(api_gateway_event(message_update("/start"), secret=WEBHOOK_SECRET, method="GET"))
    # Then it is refused without side effects
    assert response["statusCode"] == 405
    assert telegram.calls_to("sendMessage") == []
