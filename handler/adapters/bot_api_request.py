"""python-telegram-bot's HTTP client, told apart what Telegram did not do from what it may have done.

- 500, 502 and 503: Telegram answered that it could not take the call, so it is made again (a short backoff,
  a few times) — the reply reaches the user once instead of never.
- No answer within the read timeout after the whole request was sent: Telegram may have carried the call out.
  Repeating a send could show the user a message twice, so this raises `AnswerLost` and nobody repeats it.
  504 Gateway Timeout is the same case told by Telegram's front: `AnswerLost` too. A read (`get...`, a
  file download) that times out changed nothing: it stays a plain TimedOut.
"""

from __future__ import annotations

import asyncio

import httpx
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

REFUSED = frozenset({500, 502, 503})
GATEWAY_TIMEOUT = 504
BACKOFF_SECONDS = (0.5, 1.0)


class AnswerLost(TimedOut):
    """The call reached Telegram but no answer came in time: it may have been carried out."""


class BotApiRequest(HTTPXRequest):
    """HTTPXRequest that makes a call again when Telegram refused it with 500/502/503, and raises `AnswerLost`
    when a call was sent but never answered. `attempts=1` only tells the cases apart."""

    def __init__(self, *, attempts: int = len(BACKOFF_SECONDS) + 1) -> None:
        super().__init__()  # PTB's defaults: 256 connections, 5 s to connect, read and write (20 s for uploads)
        self._attempts = attempts

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
        for attempt in range(self._attempts):
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
                if isinstance(error.__cause__, httpx.ReadTimeout) and _changes_something(url, method):
                    raise AnswerLost("Telegram did not answer in time; the call may have been carried out") from error
                raise
            if status == GATEWAY_TIMEOUT and _changes_something(url, method):
                raise AnswerLost("Telegram's gateway timed out; the call may have been carried out")
            if status not in REFUSED or attempt == self._attempts - 1:
                return status, payload
            await asyncio.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
        raise AssertionError("unreachable")


def _changes_something(url: str, method: str) -> bool:
    """A Bot API call that acts (sends, edits, answers), not one that only reads."""
    return method == "POST" and not url.rsplit("/", 1)[-1].startswith("get")
