"""The Telegram gateway's one retry and error-translation policy, against a scripted Bot API in process.

The gateway runs on a real python-telegram-bot `Bot` and the real classifying HTTP client; only httpx's transport
is replaced (`httpx.MockTransport`), so Telegram's answers go through PTB's own status-to-error mapping. Pauses are
recorded instead of slept, so every test takes milliseconds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import httpx
import pytest
from telegram import Bot

from handler.adapters.telegram_gateway import (
    BACKGROUND,
    WEBHOOK,
    BlockingTelegram,
    BotApiRequest,
    Road,
    TelegramGateway,
)
from handler.core.keyboards import Button
from handler.core.ports import MaybeSent, RateLimited, TelegramRefused, TelegramUnavailable

TOKEN = "123456:gateway-test-token"
CHAT = 4242
# What the scripted API does with one call: answer (status, body), or fail on the wire (an httpx error type).
Step = tuple[int, dict[str, Any]] | type[httpx.TransportError]


def error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


def message(message_id: int = 77, **extra: Any) -> dict[str, Any]:
    chat = {"id": CHAT, "type": "private"}
    return {"message_id": message_id, "date": 0, "chat": chat, **extra}


OK_RESULTS: dict[str, Any] = {
    "sendMessage": message(),
    "editMessageText": message(),
    "editMessageReplyMarkup": message(),
    "sendPhoto": message(photo=[{"file_id": "P1", "file_unique_id": "u1", "width": 1, "height": 1}]),
    "sendMediaGroup": [
        message(1, photo=[{"file_id": "A1", "file_unique_id": "a1", "width": 1, "height": 1}]),
        message(2, photo=[{"file_id": "A2", "file_unique_id": "a2", "width": 1, "height": 1}]),
    ],
    "getFile": {"file_id": "F1", "file_unique_id": "uF1", "file_size": 3, "file_path": "photos/F1.jpg"},
    "editMessageMedia": message(photo=[{"file_id": "P2", "file_unique_id": "u2", "width": 1, "height": 1}]),
    "editMessageCaption": message(photo=[{"file_id": "P2", "file_unique_id": "u2", "width": 1, "height": 1}]),
    "deleteMessage": True,
    "answerCallbackQuery": True,
    "sendChatAction": True,
    "setWebhook": True,
}


@dataclass
class ScriptedBotApi:
    """The Bot API as an httpx transport: each method answers from its script first, then succeeds."""

    script: dict[str, list[Step]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def then(self, method: str, *steps: Step) -> ScriptedBotApi:
        self.script.setdefault(method, []).extend(steps)
        return self

    def count(self, method: str) -> int:
        return self.calls.count(method)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        method = "download" if path.startswith("/file/") else path.rsplit("/", 1)[-1]
        self.calls.append(method)
        self.bodies.append(request.read())
        steps = self.script.get(method)
        if steps:
            step = steps.pop(0)
            if isinstance(step, type):
                raise step(f"scripted {step.__name__} on {request.url}", request=request)
            status, body = step
            return httpx.Response(status, json=body)
        if method == "download":
            return httpx.Response(200, content=b"JPG")
        return httpx.Response(200, json={"ok": True, "result": OK_RESULTS[method]})


@dataclass
class Harness:
    api: ScriptedBotApi
    gateway: TelegramGateway
    slept: list[float]

    def run(self, call: Callable[[TelegramGateway], Any]) -> Any:
        return asyncio.run(call(self.gateway))


def harness(road: Road = BACKGROUND, api: ScriptedBotApi | None = None) -> Harness:
    api = api or ScriptedBotApi()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    request = BotApiRequest(httpx_kwargs={"transport": httpx.MockTransport(api)})
    bot = Bot(TOKEN, base_url="http://bot.api.test/bot", base_file_url="http://bot.api.test/file/bot", request=request)
    return Harness(api, TelegramGateway(bot, road, sleep=sleep), slept)


def send(g: TelegramGateway) -> Any:
    return g.send_text(CHAT, "hello", ((Button("OK", "menu:main"),),), generation=3)


def edit(g: TelegramGateway) -> Any:
    return g.edit_text(CHAT, 77, "progress 50%")


# --- 429 ---------------------------------------------------------------------------------------------------------


def test_a_send_telegram_asks_to_wait_for_is_made_again_after_retry_after() -> None:
    h = harness()
    h.api.then("sendMessage", error(429, "Too Many Requests: retry after 3", retry_after=3))
    assert h.run(send) == 77
    assert h.api.count("sendMessage") == 2
    assert h.slept == [3.0]


def test_a_wait_longer_than_the_road_allows_is_rate_limited_at_once() -> None:
    # Given the webhook's road (a person waits for the reply) and a 429 asking for more than it waits
    h = harness(WEBHOOK)
    h.api.then("sendMessage", error(429, "Too Many Requests: retry after 20", retry_after=20))
    # Then the send is not waited for: RateLimited, carrying Telegram's wait, after one call
    with pytest.raises(RateLimited) as raised:
        h.run(send)
    assert raised.value.retry_after == 20.0
    assert h.api.count("sendMessage") == 1
    assert h.slept == []


def test_an_edit_is_never_waited_for() -> None:
    h = harness()
    h.api.then("editMessageText", error(429, "Too Many Requests: retry after 2", retry_after=2))
    with pytest.raises(RateLimited) as raised:
        h.run(edit)
    assert raised.value.retry_after == 2.0
    assert (h.api.count("editMessageText"), h.slept) == (1, [])


# --- 5xx and the network --------------------------------------------------------------------------------------------


def test_a_call_telegram_refused_with_5xx_is_made_again_after_the_roads_pauses() -> None:
    h = harness()
    h.api.then("sendMessage", error(502, "Bad Gateway"), error(500, "Internal Server Error"))
    assert h.run(send) == 77
    assert h.api.count("sendMessage") == 3
    assert h.slept == [1.0, 2.0]


@pytest.mark.parametrize(("road", "pauses"), [(BACKGROUND, [1.0, 2.0, 4.0]), (WEBHOOK, [0.5, 1.0])])
def test_the_gateway_gives_up_after_the_roads_attempts(road: Road, pauses: list[float]) -> None:
    # Given a Bot API that answers 503 for longer than any road tries
    h = harness(road)
    h.api.then("sendMessage", *[error(503, "Service Unavailable")] * 10)
    # Then the send ends in TelegramUnavailable after exactly the road's attempts and pauses
    with pytest.raises(TelegramUnavailable):
        h.run(send)
    assert h.api.count("sendMessage") == road.retry.attempts == len(pauses) + 1
    assert h.slept == pauses


def test_a_network_error_is_tried_again_and_its_message_never_shows_the_token() -> None:
    h = harness()
    h.api.then("sendMessage", httpx.ConnectError, httpx.ConnectError, httpx.ConnectError, httpx.ConnectError)
    with pytest.raises(TelegramUnavailable) as raised:
        h.run(send)
    assert h.api.count("sendMessage") == 4
    assert "sendMessage" in str(raised.value)
    assert TOKEN not in str(raised.value)
    # And one that passes is tried again until it succeeds
    h = harness()
    h.api.then("sendMessage", httpx.ConnectError)
    assert h.run(send) == 77
    assert (h.api.count("sendMessage"), h.slept) == (2, [1.0])


# --- a call that may have been carried out -------------------------------------------------------------------------


@pytest.mark.parametrize("lost", [httpx.ReadTimeout, error(504, "Gateway Timeout")], ids=["read timeout", "504"])
def test_a_send_whose_answer_was_lost_is_never_repeated(lost: Step) -> None:
    h = harness()
    h.api.then("sendMessage", lost)
    with pytest.raises(MaybeSent):
        h.run(send)
    assert h.api.count("sendMessage") == 1


def test_a_download_that_timed_out_is_repeated_in_the_background_but_not_on_the_webhook() -> None:
    # Given a getFile that times out once
    background = harness(BACKGROUND, ScriptedBotApi().then("getFile", httpx.ReadTimeout))
    webhook = harness(WEBHOOK, ScriptedBotApi().then("getFile", httpx.ReadTimeout))
    # Then the worker's road reads it again and gets the file
    assert background.run(lambda g: g.download("F1")) == b"JPG"
    assert background.api.calls == ["getFile", "getFile", "download"]
    # And the webhook's road (30 s for the whole update) gives up at once
    with pytest.raises(TelegramUnavailable):
        webhook.run(lambda g: g.download("F1"))
    assert webhook.api.calls == ["getFile"]


def test_an_edit_whose_answer_was_lost_is_repeated_where_the_road_allows() -> None:
    h = harness(BACKGROUND, ScriptedBotApi().then("editMessageText", httpx.ReadTimeout))
    assert h.run(edit) is True
    assert h.api.count("editMessageText") == 2
    w = harness(WEBHOOK, ScriptedBotApi().then("editMessageText", httpx.ReadTimeout))
    with pytest.raises(MaybeSent):
        w.run(edit)


# --- answers that trying again does not change --------------------------------------------------------------------


def test_not_modified_is_an_edit_that_already_shows_the_text() -> None:
    h = harness()
    h.api.then("editMessageText", error(400, "Bad Request: message is not modified: specified new message content"))
    assert h.run(edit) is True
    assert (h.api.count("editMessageText"), h.slept) == (1, [])


@pytest.mark.parametrize("reason", ["message to edit not found", "message can't be edited"])
def test_an_edit_of_a_message_that_cannot_be_edited_says_so_without_trying_again(reason: str) -> None:
    h = harness()
    h.api.then("editMessageText", error(400, f"Bad Request: {reason}"))
    assert h.run(edit) is False
    assert (h.api.count("editMessageText"), h.slept) == (1, [])


def test_taking_a_keyboard_off_treats_not_modified_and_gone_alike_as_edits() -> None:
    h = harness()
    h.api.then("editMessageReplyMarkup", error(400, "Bad Request: message is not modified"))
    h.api.then("editMessageReplyMarkup", error(400, "Bad Request: message to edit not found"))
    assert h.run(lambda g: g.remove_keyboard(CHAT, 77)) is True
    assert h.run(lambda g: g.remove_keyboard(CHAT, 77)) is False


@pytest.mark.parametrize(
    ("answer", "code"),
    [(error(403, "Forbidden: bot was blocked by the user"), 403), (error(401, "Unauthorized"), 401)],
)
def test_a_refusal_is_translated_once_with_its_status_and_reason(answer: tuple[int, dict[str, Any]], code: int) -> None:
    h = harness()
    h.api.then("sendMessage", answer)
    with pytest.raises(TelegramRefused) as raised:
        h.run(send)
    assert (raised.value.method, raised.value.code) == ("sendMessage", code)
    assert raised.value.reason == answer[1]["description"]
    assert h.api.count("sendMessage") == 1


# --- what goes out ---------------------------------------------------------------------------------------------------


def test_keyboards_are_stamped_with_the_generation_and_albums_return_their_file_ids() -> None:
    h = harness()
    h.run(send)
    keyboard = json.loads(dict(parse_qsl(h.api.bodies[0].decode()))["reply_markup"])["inline_keyboard"]
    assert keyboard == [[{"text": "OK", "callback_data": "menu:3:main"}]]
    assert h.run(lambda g: g.send_album(CHAT, [(b"a", "one"), ("A0", "two")])) == ["A1", "A2"]
    h.run(lambda g: g.answer_tap("query-1", "menu is outdated"))
    h.run(lambda g: g.chat_action(CHAT, "upload_photo"))
    assert h.api.calls[-2:] == ["answerCallbackQuery", "sendChatAction"]


def test_a_progress_photo_is_sent_swapped_captioned_and_deleted_with_cancel_under_it() -> None:
    # Given the worker's view of the gateway
    h = harness()
    blocking = BlockingTelegram(h.gateway)
    cancel = ((Button("Cancel", "j:cancel"),),)
    # When a best job's progress becomes a photo, takes a new picture, a new caption, and goes
    assert blocking.send_preview(CHAT, b"\xff\xd8first", "10%", cancel, generation=4) == 77
    assert blocking.edit_preview(CHAT, 77, b"\xff\xd8second", "40%", cancel, generation=4)
    assert blocking.edit_caption(CHAT, 77, "60%", cancel, generation=4)
    assert blocking.delete_message(CHAT, 77)
    # Then each is its Bot API method, the picture travels as a file, and Cancel is stamped under it
    assert h.api.calls == ["sendPhoto", "editMessageMedia", "editMessageCaption", "deleteMessage"]
    assert b"\xff\xd8first" in h.api.bodies[0] and b"\xff\xd8second" in h.api.bodies[1]
    assert all("j:4:cancel" in unquote_plus(body.decode("latin-1")) for body in h.api.bodies[:3])
    # And a message that is gone (or a text one, which cannot take a picture) is refused without trying again
    h.api.then("editMessageMedia", error(400, "Bad Request: there is no media in the message to edit"))
    h.api.then("editMessageCaption", error(400, "Bad Request: message to edit not found"))
    h.api.then("deleteMessage", error(400, "Bad Request: message to delete not found"))
    assert not blocking.edit_preview(CHAT, 78, b"\xff\xd8", "50%", cancel)
    assert not blocking.edit_caption(CHAT, 78, "50%")
    assert not blocking.delete_message(CHAT, 78)
    assert h.api.calls[4:] == ["editMessageMedia", "editMessageCaption", "deleteMessage"]
    blocking.close()


def test_blocking_code_gets_the_same_policy() -> None:
    # Given the worker's view of the gateway, and a Bot API that refuses the first upload of a result
    h = harness()
    h.api.then("sendPhoto", error(502, "Bad Gateway"))
    blocking = BlockingTelegram(h.gateway)
    # When the result is sent from blocking code
    blocking.send_picture(CHAT, b"JPG", as_file=False, filename="r.jpg", caption="Done")
    # Then it went out once more after the background road's first pause
    assert (h.api.count("sendPhoto"), h.slept) == (2, [1.0])
    # And a webhook registration that Telegram refuses says why
    h.api.then("setWebhook", error(400, "Bad Request: bad webhook: Failed to resolve host"))
    with pytest.raises(TelegramRefused, match="setWebhook: 400 Bad Request: bad webhook: Failed to resolve host"):
        blocking.set_webhook("https://example.test/hook", "s" * 32, ["message"], 40)
    blocking.close()
