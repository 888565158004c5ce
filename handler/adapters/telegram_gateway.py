"""The one road to Telegram: python-telegram-bot's `Bot` behind the `Telegram` port, with one retry and
error-translation policy. The webhook's dialogue, the worker, the failure destination and the webhook
registration all call the Bot API through this module, and nothing else in the code repeats a Bot API call.

What a failure means, told apart at the HTTP client (`BotApiRequest`) where the status and the cause are known:

- 500, 502, 503 (and 504 on a call that only reads): Telegram did not carry the call out. It is made again after
  a pause; after the last try, `TelegramUnavailable`. Network errors (no connection, reset) are the same.
- No answer within the read timeout after the whole request was sent, or 504 Gateway Timeout, on a call that
  acts (sends, edits, answers): Telegram may have carried it out. A call that is safe to repeat (an edit, a
  download, registration) is made again where the road allows it; a send is not (the user could see it twice):
  `MaybeSent`. A read or a connection that timed out changed nothing: made again where the road allows it.
- 429 with `retry_after`: waited for and made again, when the wait is no longer than the road allows; else
  `RateLimited`. An edit is never waited for (the next edit replaces it): `RateLimited` at once.
- Any other error answer (400, 401, 403, 409): `TelegramRefused` with the status and Telegram's description.
  For an edit, 400 "message is not modified" means the message already shows the text (True), and any other
  400 ("message to edit not found", "message can't be edited") that it cannot be edited (False).

Two roads differ only in patience: the webhook answers Telegram within its 30 s, so a call that timed out is
not repeated there (another 5 s wait each), and a 429 is waited for only briefly; the worker, its failure
destination and the registration have minutes. No message of a failure carries the bot token.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, InputMediaPhoto, ReplyParameters
from telegram._utils.types import ODVInput
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from handler.core.callbacks import callback_data
from handler.core.keyboards import Keyboard
from handler.core.ports import MaybeSent, RateLimited, TelegramRefused, TelegramUnavailable
from handler.core.retry import Again, RetryPolicy, retry_async
from handler.observability import logger

T = TypeVar("T")

GATEWAY_TIMEOUT = 504
NOT_MODIFIED = "message is not modified"
PREVIEW_FILENAME = "preview.jpg"


@dataclass(frozen=True)
class Road:
    """How patient the calls of one kind of caller are: the retry schedule, and whether a call that timed out
    (without being sent, or a read, or an edit whose answer was lost) is made again."""

    retry: RetryPolicy
    repeat_timeouts: bool


# The webhook: three tries of a refused call, 1.5 s of pauses, a 429 waited for up to 5 s; no second 5 s timeout.
WEBHOOK = Road(RetryPolicy(attempts=3, pauses=(0.5, 1.0), longest_wait=5.0), repeat_timeouts=False)
# The worker, the failure destination and the registration: four tries, 7 s of pauses, a 429 waited for up to 30 s.
BACKGROUND = Road(RetryPolicy(attempts=4, pauses=(1.0, 2.0, 4.0), longest_wait=30.0), repeat_timeouts=True)


class AnswerLost(TimedOut):
    """The call reached Telegram but no answer came in time: it may have been carried out."""


class Answered(TelegramError):
    """Telegram answered with an error that trying again does not change: its status and description as sent
    (PTB's own error types keep neither: the status is lost and the description re-capitalised)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description


class BotApiRequest(HTTPXRequest):
    """PTB's HTTP client, telling apart what Telegram may have done without saying so (`AnswerLost`) and what it
    refused (`Answered`) from what it did not do (PTB's `NetworkError`: 5xx, no connection). It never repeats a
    call: the gateway does."""

    def __init__(self, *, httpx_kwargs: dict[str, Any] | None = None) -> None:
        # PTB's defaults: 256 connections, 5 s to connect, read and write (20 s for uploads)
        super().__init__(httpx_kwargs=httpx_kwargs)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        acts = _changes_something(url, method)
        try:
            status, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except TimedOut as error:
            if isinstance(error.__cause__, httpx.ReadTimeout) and acts:
                raise AnswerLost("Telegram did not answer in time; the call may have been carried out") from error
            raise
        if status == GATEWAY_TIMEOUT and acts:
            raise AnswerLost("Telegram's gateway timed out; the call may have been carried out")
        if 400 <= status < 500 and status != HTTPStatus.TOO_MANY_REQUESTS:
            _refuse(status, payload)
        return status, payload


def _refuse(status: int, payload: bytes) -> None:
    """Raise `Answered` for an error answer, unless it carries parameters PTB turns into its own errors (a chat
    that migrated) or is not Telegram's JSON (PTB says so)."""
    try:
        body = json.loads(payload)
    except ValueError:
        return
    if isinstance(body, dict) and not body.get("parameters"):
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "error"
        raise Answered(status, str(body.get("description") or phrase))


def _changes_something(url: str, method: str) -> bool:
    """A Bot API call that acts (sends, edits, answers), not one that only reads."""
    return method == "POST" and not url.rsplit("/", 1)[-1].startswith("get")


def markup(keyboard: Keyboard | None, generation: int) -> InlineKeyboardMarkup | None:
    """The inline keyboard, every button stamped with the user's current generation."""
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=callback_data(b.action, generation)) for b in row]
            for row in keyboard
        ]
    )


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int becomes a timedelta in a later major version
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after: int | dtm.timedelta = error.retry_after
    return retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else float(retry_after)


PTB_REFUSALS: tuple[tuple[type[TelegramError], int], ...] = (
    (BadRequest, 400),
    (ChatMigrated, 400),
    (Forbidden, 403),
    (InvalidToken, 401),
    (Conflict, 409),
)


class TelegramGateway:
    """The `Telegram` port over one PTB `Bot`, on the retry and translation policy of its `road`."""

    def __init__(
        self,
        bot: Bot,
        road: Road,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._road = road
        self._sleep = sleep

    def _safe(self, message: str) -> str:
        token = self._bot.token
        return message.replace(token, "<bot token>") if token else message

    def _classify(self, method: str, *, repeatable: bool, waits: bool) -> Callable[[Exception], Again | Exception]:
        repeat_timeouts = self._road.repeat_timeouts

        def classify(error: Exception) -> Again | Exception:
            if isinstance(error, RetryAfter):
                wait = _seconds(error)
                logger.info("Bot API asks to wait", extra={"method": method, "retry_after": wait})
                limited = RateLimited(wait)
                return Again(limited, seconds=wait) if waits else limited
            unavailable = TelegramUnavailable(f"{method}: {self._safe(str(error))}")
            if isinstance(error, AnswerLost):
                lost = MaybeSent(f"{method}: {error.message}")
                return Again(lost) if repeatable and repeat_timeouts else lost
            if isinstance(error, TimedOut):
                return Again(unavailable) if repeat_timeouts else unavailable
            if isinstance(error, Answered):
                return TelegramRefused(method, error.status, self._safe(error.description))
            for kind, status in PTB_REFUSALS:  # what PTB told apart itself (a body not JSON, a migrated chat)
                if isinstance(error, kind):
                    return TelegramRefused(method, status, self._safe(error.message))
            if isinstance(error, TelegramError):  # 5xx, no connection, an answer that is not JSON
                logger.info(
                    "Bot API call failed; trying again", extra={"method": method, "reason": type(error).__name__}
                )
                return Again(unavailable)
            return error

        return classify

    async def _call(self, method: str, make: Callable[[], Awaitable[T]], *, repeatable: bool, waits: bool = True) -> T:
        return await retry_async(
            make, self._road.retry, self._classify(method, repeatable=repeatable, waits=waits), self._sleep
        )

    async def _edit(self, method: str, make: Callable[[], Awaitable[object]]) -> bool:
        """An edit, where "not modified" is success and any other 400 means the message cannot be edited."""
        try:
            await self._call(method, make, repeatable=True, waits=False)
        except TelegramRefused as refused:
            if refused.code != 400:
                raise
            if NOT_MODIFIED in refused.reason.lower():
                return True
            logger.info("edit refused", extra={"method": method, "reason": refused.reason})
            return False
        return True

    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int:
        message = await self._call(
            "sendMessage",
            lambda: self._bot.send_message(chat_id, text, reply_markup=markup(keyboard, generation)),
            repeatable=False,
        )
        return message.message_id

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        return await self._edit(
            "editMessageText",
            lambda: self._bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup(keyboard, generation)
            ),
        )

    async def remove_keyboard(self, chat_id: int, message_id: int) -> bool:
        return await self._edit(
            "editMessageReplyMarkup",
            lambda: self._bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None),
        )

    async def send_picture(
        self,
        chat_id: int,
        data: bytes,
        *,
        as_file: bool,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
        reply_to: int | None = None,
    ) -> None:
        reply_markup = markup(keyboard, generation)
        # A reply to a message the user has deleted meanwhile is sent all the same, as a plain message.
        reply = None if reply_to is None else ReplyParameters(reply_to, allow_sending_without_reply=True)
        send = self._bot.send_document if as_file else self._bot.send_photo
        await self._call(
            "sendDocument" if as_file else "sendPhoto",
            lambda: send(
                chat_id,
                InputFile(data, filename=filename),
                caption=caption or None,  # an empty caption is none
                reply_markup=reply_markup,
                reply_parameters=reply,
            ),
            repeatable=False,
        )

    async def send_preview(
        self, chat_id: int, jpeg: bytes, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> int:
        reply_markup = markup(keyboard, generation)
        message = await self._call(
            "sendPhoto",
            lambda: self._bot.send_photo(
                chat_id, InputFile(jpeg, filename=PREVIEW_FILENAME), caption=caption, reply_markup=reply_markup
            ),
            repeatable=False,
        )
        return message.message_id

    async def edit_preview(
        self,
        chat_id: int,
        message_id: int,
        jpeg: bytes,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
    ) -> bool:
        return await self._edit(
            "editMessageMedia",
            lambda: self._bot.edit_message_media(
                InputMediaPhoto(InputFile(jpeg, filename=PREVIEW_FILENAME), caption=caption),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=markup(keyboard, generation),
            ),
        )

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        return await self._edit(
            "editMessageCaption",
            lambda: self._bot.edit_message_caption(
                chat_id=chat_id, message_id=message_id, caption=caption, reply_markup=markup(keyboard, generation)
            ),
        )

    async def delete_message(self, chat_id: int, message_id: int) -> bool:
        return await self._edit("deleteMessage", lambda: self._bot.delete_message(chat_id, message_id))

    async def send_album(self, chat_id: int, items: Sequence[tuple[bytes | str, str]]) -> list[str | None]:
        media = [InputMediaPhoto(picture, caption=caption) for picture, caption in items]
        messages = await self._call(
            "sendMediaGroup", lambda: self._bot.send_media_group(chat_id, media), repeatable=False
        )
        return [message.photo[-1].file_id if message.photo else None for message in messages]

    async def answer_tap(self, query_id: str, toast: str | None = None) -> None:
        await self._call(
            "answerCallbackQuery", lambda: self._bot.answer_callback_query(query_id, toast), repeatable=False
        )

    async def chat_action(self, chat_id: int, action: str) -> None:
        await self._call("sendChatAction", lambda: self._bot.send_chat_action(chat_id, action), repeatable=True)

    async def download(self, file_id: str) -> bytes:
        async def fetch() -> bytes:
            file = await self._bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return await self._call("getFile", fetch, repeatable=True)

    async def set_commands(self, commands: Sequence[tuple[str, str]], language_code: str | None = None) -> None:
        await self._call(
            "setMyCommands",
            lambda: self._bot.set_my_commands(list(commands), language_code=language_code),
            repeatable=True,
        )

    async def shutdown(self) -> None:
        """Close the HTTP client's connections."""
        await self._bot.request.shutdown()

    async def set_webhook(
        self, url: str, secret_token: str, allowed_updates: Sequence[str], max_connections: int
    ) -> None:
        await self._call(
            "setWebhook",
            lambda: self._bot.set_webhook(
                url, secret_token=secret_token, allowed_updates=allowed_updates, max_connections=max_connections
            ),
            repeatable=True,
        )

    async def delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        await self._call(
            "deleteWebhook",
            lambda: self._bot.delete_webhook(drop_pending_updates=drop_pending_updates),
            repeatable=True,
        )


class BlockingTelegram:
    """The gateway for blocking code (the `Messenger` and `WebhookRegistry` ports): each call runs to its end on
    this object's one long-lived event loop (the HTTP client's connections belong to it)."""

    def __init__(self, gateway: TelegramGateway) -> None:
        self._gateway = gateway
        self._loop = asyncio.new_event_loop()

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(call)

    def download(self, file_id: str) -> bytes:
        return self._run(self._gateway.download(file_id))

    def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        return self._run(self._gateway.edit_text(chat_id, message_id, text, keyboard, generation))

    def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int:
        return self._run(self._gateway.send_text(chat_id, text, keyboard, generation))

    def chat_action(self, chat_id: int, action: str) -> None:
        self._run(self._gateway.chat_action(chat_id, action))

    def send_preview(
        self, chat_id: int, jpeg: bytes, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> int:
        return self._run(self._gateway.send_preview(chat_id, jpeg, caption, keyboard, generation))

    def edit_preview(
        self,
        chat_id: int,
        message_id: int,
        jpeg: bytes,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
    ) -> bool:
        return self._run(self._gateway.edit_preview(chat_id, message_id, jpeg, caption, keyboard, generation))

    def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        return self._run(self._gateway.edit_caption(chat_id, message_id, caption, keyboard, generation))

    def delete_message(self, chat_id: int, message_id: int) -> bool:
        return self._run(self._gateway.delete_message(chat_id, message_id))

    def send_picture(
        self,
        chat_id: int,
        data: bytes,
        *,
        as_file: bool,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
        reply_to: int | None = None,
    ) -> None:
        self._run(
            self._gateway.send_picture(
                chat_id, data, as_file=as_file, filename=filename, caption=caption, keyboard=keyboard,
                generation=generation, reply_to=reply_to,
            )
        )  # fmt: skip

    def set_webhook(self, url: str, secret_token: str, allowed_updates: Sequence[str], max_connections: int) -> None:
        self._run(self._gateway.set_webhook(url, secret_token, allowed_updates, max_connections))

    def delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        self._run(self._gateway.delete_webhook(drop_pending_updates=drop_pending_updates))

    def set_commands(self, commands: Sequence[tuple[str, str]], language_code: str | None = None) -> None:
        self._run(self._gateway.set_commands(commands, language_code))

    def close(self) -> None:
        """Close the HTTP client and the loop (for callers that make one per use, as the registration does)."""
        self._run(self._gateway.shutdown())
        self._loop.close()
