"""A person in a private chat with the bot, as the tests drive one: sends messages, taps buttons, reads replies."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from handler.core.texts import text
from infra.local.fake_bot_api import BOT_ID, BOT_USERNAME, Call, FakeBotApi
from tests.conftest import WEBHOOK_SECRET
from tests.factories import api_gateway_event, message_update, next_update_id, user

_callback_ids = itertools.count(1)


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


# The calls that show a photo message (a best job's progress, once it shows its picture)
PHOTO_CALLS = ("sendPhoto", "editMessageMedia", "editMessageCaption")


def bot_message(
    chat_id: int, message_id: int, text_: str, reply_markup: dict[str, Any] | None, *, photo: bool = False
) -> dict[str, Any]:
    """The bot's message as a callback query carries it: text, or a photo with `text_` as its caption."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Stylebot", "username": BOT_USERNAME},
    }
    if photo:
        message["photo"] = [
            {"file_id": f"SENT{message_id}", "file_unique_id": f"U{message_id}", "width": 1, "height": 1}
        ]
        message["caption"] = text_
    else:
        message["text"] = text_
    if reply_markup:
        message["reply_markup"] = reply_markup
    return message


@dataclass
class Person:
    webhook: Invoker
    telegram: FakeBotApi
    user_id: int
    language: str = "en"
    statuses: list[int] = field(default_factory=list)
    callback_ids: set[str] = field(default_factory=set)
    last_job: str | None = None
    secret: str = WEBHOOK_SECRET

    # --- acting ---------------------------------------------------------------------------------------------
    def deliver(self, update: dict[str, Any], webhook: Invoker | None = None) -> int:
        response = (webhook or self.webhook).invoke(api_gateway_event(update, secret=self.secret))
        status = int(response["statusCode"])
        self.statuses.append(status)
        return status

    def send(self, text_: str) -> int:
        return self.deliver(message_update(text_, user_id=self.user_id, language_code=self.language))

    def message(self, **fields: Any) -> dict[str, Any]:
        return message_update(None, user_id=self.user_id, language_code=self.language, **fields)

    def send_photo(
        self,
        data: bytes = b"",
        *,
        album: str | None = None,
        message_id: int | None = None,
        size: tuple[int, int] = (900, 600),
    ) -> int:
        file_id = self.telegram.add_file(data)
        fields: dict[str, Any] = {
            "photo": [
                {"file_id": file_id + "s", "file_unique_id": "s" + file_id, "width": 90, "height": 60},
                {
                    "file_id": file_id,
                    "file_unique_id": "u" + file_id,
                    "width": size[0],
                    "height": size[1],
                    "file_size": len(data),
                },
            ]
        }
        if album:
            fields["media_group_id"] = album
        update = self.message(**fields)
        if message_id is not None:
            update["message"]["message_id"] = message_id
        return self.deliver(update)

    def photo_update(self, *, album: str | None = None, message_id: int | None = None) -> dict[str, Any]:
        file_id = self.telegram.add_file(b"")
        fields: dict[str, Any] = {
            "photo": [{"file_id": file_id, "file_unique_id": "u" + file_id, "width": 900, "height": 600}]
        }
        if album:
            fields["media_group_id"] = album
        update = self.message(**fields)
        if message_id is not None:
            update["message"]["message_id"] = message_id
        return update

    def send_document(self, data: bytes, mime_type: str, *, file_name: str = "picture", size: int | None = None) -> int:
        file_id = self.telegram.add_file(data)
        document = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size if size is not None else len(data),
        }
        return self.deliver(self.message(document=document))

    def tap_update(
        self, label: str | None = None, *, data: str | None = None, message: Call | None = None
    ) -> dict[str, Any]:
        """The callback query Telegram sends when the person taps a button of the bot's latest keyboard."""
        if message is None and data is not None and not any(c.reply_markup for c in self.shown()):
            # A tap on a button the bot never showed this person (forged data).
            message = Call("sendMessage", {"chat_id": self.user_id, "text": "?"}, result={"message_id": 1})
        message = message or self.latest_keyboard_message()
        markup = message.reply_markup or {}
        if data is None:
            buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
            matches = [b for b in buttons if label is not None and label in b["text"]]
            assert matches, f"no button {label!r} in {[b['text'] for b in buttons]}"
            data = matches[0]["callback_data"]
        message_id = message_id_of(message)
        callback_id = str(next(_callback_ids))
        self.callback_ids.add(callback_id)
        return {
            "update_id": next_update_id(),
            "callback_query": {
                "id": callback_id,
                "from": user(self.user_id, language_code=self.language),
                "chat_instance": f"ci{self.user_id}",
                "data": data,
                "message": (
                    bot_message(self.user_id, message_id, message.caption or "", markup, photo=True)
                    if message.method in PHOTO_CALLS
                    else bot_message(self.user_id, message_id, message.text or "", markup)
                ),
            },
        }

    def tap(self, label: str | None = None, *, data: str | None = None, message: Call | None = None) -> int:
        return self.deliver(self.tap_update(label, data=data, message=message))

    # --- reading ------------------------------------------------------------------------------------------
    def calls(self) -> list[Call]:
        return [c for c in self.telegram.calls if c.chat_id == self.user_id or self._is_my_callback(c)]

    def _is_my_callback(self, call: Call) -> bool:
        return call.method == "answerCallbackQuery" and str(call.params.get("callback_query_id")) in self.callback_ids

    def answers(self) -> list[Call]:
        """This person's callback answers (the toasts), oldest first."""
        return [c for c in self.calls() if c.method == "answerCallbackQuery"]

    def shown(self) -> list[Call]:
        """Messages sent to or edited in this chat, oldest first."""
        return [c for c in self.calls() if c.method in ("sendMessage", "editMessageText") and c.chat_id == self.user_id]

    def last(self) -> Call:
        shown = self.shown()
        assert shown, "the bot has not said anything"
        return shown[-1]

    def last_text(self) -> str:
        return self.last().text or ""

    def progress_photos(self) -> list[Call]:
        """The photos (sent and edited) of a best job's progress, which carry its Cancel button."""
        return [c for c in self.calls() if c.method in PHOTO_CALLS and is_progress(c)]

    def latest_keyboard_message(self) -> Call:
        """The newest message with buttons that is still in the chat (a text, or a job's progress photo)."""
        deleted = {int(c.params["message_id"]) for c in self.calls() if c.method == "deleteMessage"}
        with_keyboard = [
            c
            for c in [*self.shown(), *self.progress_photos()]
            if c.reply_markup and (c.result is None or message_id_of(c) not in deleted)
        ]
        with_keyboard.sort(key=lambda c: c.at)
        assert with_keyboard, "no keyboard was shown"
        return with_keyboard[-1]

    def buttons(self) -> list[dict[str, str]]:
        markup = self.latest_keyboard_message().reply_markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def t(self, key: str, **values: object) -> str:
        return text(key, self.language, **values)


def message_id_of(call: Call) -> int:
    """The id of the message a call sent (from Telegram's answer) or edited."""
    return int(call.result["message_id"]) if isinstance(call.result, dict) else int(call.params["message_id"])


def is_progress(call: Call) -> bool:
    """A message whose buttons are a job's Cancel (its progress)."""
    buttons = [b for row in (call.reply_markup or {}).get("inline_keyboard", []) for b in row]
    return any(str(b.get("callback_data", "")).startswith("j:") for b in buttons)
