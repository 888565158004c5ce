"""The worker's Bot API client: python-telegram-bot's Bot on one long-lived event loop, with safe retries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from handler.adapters.bot_api_request import AnswerLost, BotApiRequest
from handler.core.callbacks import callback_data
from handler.core.keyboards import Keyboard
from handler.core.ports import MaybeSent, RateLimited
from handler.observability import logger

T = TypeVar("T")

ATTEMPTS = 4
MAX_WAIT_SECONDS = 30.0


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


def _wait(error: RetryAfter) -> float:
    retry_after = error.retry_after
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)


class BotMessenger:
    """Messenger over the Bot API. One event loop per process (see handler/runtime.py for why)."""

    def __init__(
        self, token: str, base_url: str, base_file_url: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._loop = asyncio.new_event_loop()
        # The request only tells a call Telegram may have carried out from one it did not; _run retries.
        self._bot = Bot(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=BotApiRequest(attempts=1),
        )
        self._sleep = sleep

    def _run(self, make: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """Run a Bot API call, retrying 429s (after `retry_after`), errors Telegram answered (5xx) and network
        errors; a call Telegram may have carried out without answering is repeated only if it is safe to."""
        for attempt in range(ATTEMPTS):
            try:
                return self._loop.run_until_complete(make())
            except RetryAfter as error:
                wait = _wait(error)
                if attempt == ATTEMPTS - 1 or wait > MAX_WAIT_SECONDS:
                    raise
                self._sleep(wait)
            except AnswerLost as error:
                # A send that got no answer may have arrived: repeating it could show the user a picture twice.
                if not idempotent:
                    raise MaybeSent(str(error)) from error
                if attempt == ATTEMPTS - 1:
                    raise
                self._sleep(2**attempt)
            except TimedOut:
                # Not sent at all (no connection, or the request not written out): safe to try again.
                if attempt == ATTEMPTS - 1:
                    raise
                self._sleep(2**attempt)
            except BadRequest:
                raise
            except NetworkError:
                if attempt == ATTEMPTS - 1:
                    raise
                self._sleep(2**attempt)
        raise AssertionError("unreachable")

    def download(self, file_id: str) -> bytes:
        async def fetch() -> bytes:
            file = await self._bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return self._run(fetch, idempotent=True)

    def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> None:
        try:
            self._loop.run_until_complete(
                self._bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup(keyboard, generation)
                )
            )
        except RetryAfter as error:
            raise RateLimited(_wait(error)) from error
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                logger.info("edit refused", extra={"reason": error.message})
        except NetworkError as error:
            logger.info("edit failed", extra={"reason": type(error).__name__})

    def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int:
        message = self._run(
            lambda: self._bot.send_message(chat_id, text, reply_markup=markup(keyboard, generation)), idempotent=False
        )
        return message.message_id

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
    ) -> None:
        reply_markup = markup(keyboard, generation)
        if as_file:
            self._run(
                lambda: self._bot.send_document(
                    chat_id, InputFile(data, filename=filename), caption=caption, reply_markup=reply_markup
                ),
                idempotent=False,
            )
        else:
            self._run(
                lambda: self._bot.send_photo(
                    chat_id, InputFile(data, filename=filename), caption=caption, reply_markup=reply_markup
                ),
                idempotent=False,
            )
