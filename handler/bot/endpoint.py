"""The webhook's endpoint: one event loop and one Application, reused by every invocation of the function.

A module-level Application driven by `asyncio.run` per invocation breaks on the second call: the HTTP client's
keep-alive connections belong to the first, now closed, loop ("Event loop is closed"), and PTB swallows the
error. So the loop is created once per execution environment and each invocation runs on it.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application

from handler.bot.dialog import Deps, Redeliveries, wake
from handler.core.limits import ALBUM_SETTLE_SECONDS
from handler.core.ports import StoreUnavailable, UpdateInProgress, UpdateLedger
from handler.core.wakeup import Wakeup
from handler.core.webhook_request import SECRET_HEADER, NotAnUpdate, WebhookRequest
from handler.observability import logger


class RedeliveryWanted(RuntimeError):
    """Processing failed for a passing reason (state store down, contention): Telegram should redeliver."""


Response = dict[str, Any]


def _response(status: HTTPStatus) -> Response:
    return {"statusCode": int(status), "headers": {"content-type": "text/plain"}, "body": status.phrase}


# Builds the Application once the bot token is known (the token is read on the first call, not at import).
MakeApplication = Callable[[], Application]  # type: ignore[type-arg]


class WebhookEndpoint:
    """Checks, deduplicates and processes webhook calls on one long-lived event loop."""

    def __init__(
        self,
        ledger: UpdateLedger,
        make_application: MakeApplication,
        redeliveries: Redeliveries,
        *,
        secret: Callable[[], SecretStr],
        claim_stale_seconds: float,
    ) -> None:
        self._ledger = ledger
        self._make_application = make_application
        self._redeliveries = redeliveries
        self._secret = secret
        self._claim_stale_seconds = claim_stale_seconds
        self._loop = asyncio.new_event_loop()
        self._app: Application | None = None  # type: ignore[type-arg]

    def handle(self, event: dict[str, Any]) -> Response:
        """Answer one API Gateway event: 403 without the right secret, 2xx once processed or a duplicate. Or act on
        a wakeup this function queued for itself (`handler.adapters.lambda_timer`; API Gateway sends none)."""
        wakeup = Wakeup.from_event(event)
        if wakeup is not None:
            return self._wake(wakeup)
        request = WebhookRequest.from_event(event)
        given = request.header(SECRET_HEADER).encode()
        # No header at all needs no secret to refuse (and no SSM call).
        if not given or not hmac.compare_digest(given, self._secret().get_secret_value().encode()):
            logger.warning("webhook call without the right secret token")
            return _response(HTTPStatus.FORBIDDEN)
        if request.method != "POST":
            return _response(HTTPStatus.METHOD_NOT_ALLOWED)
        try:
            data = request.update()
        except NotAnUpdate as error:
            logger.warning("not a Telegram update", extra={"reason": str(error)})
            return _response(HTTPStatus.BAD_REQUEST)
        update_id: int = data["update_id"]
        logger.append_keys(update_id=update_id)
        try:
            if not self._ledger.claim_update(update_id, stale_after=self._claim_stale_seconds):
                logger.info("duplicate update dropped")
                return _response(HTTPStatus.OK)
        except UpdateInProgress:
            logger.info("update being processed by another delivery; Telegram will redeliver")
            return _response(HTTPStatus.SERVICE_UNAVAILABLE)
        except StoreUnavailable:
            logger.exception("state store unavailable; Telegram will redeliver")
            return _response(HTTPStatus.SERVICE_UNAVAILABLE)
        try:
            self._loop.run_until_complete(self._process(data))
        except Exception:
            logger.exception("update could not be processed; Telegram will redeliver")
            self._release(update_id)
            return _response(HTTPStatus.INTERNAL_SERVER_ERROR)
        try:
            self._ledger.finish_update(update_id)
        except StoreUnavailable:
            logger.exception("update processed, but not marked done: a late redelivery may repeat it")
        return _response(HTTPStatus.OK)

    def _wake(self, wakeup: Wakeup) -> Response:
        """Sleep out what is left of the wakeup's time, then act on it. A failure raises: Lambda tries the
        invocation again, and the retry shows the options if they were not written yet (a no-op if they were)."""
        logger.append_keys(album_id=wakeup.due.album_id)
        self._loop.run_until_complete(self._woken(wakeup))
        return _response(HTTPStatus.OK)

    async def _woken(self, wakeup: Wakeup) -> None:
        app = await self._application()
        deps: Deps = app.bot_data["deps"]
        # Never longer than the wait itself, whatever the clocks say.
        await asyncio.sleep(min(max(0.0, wakeup.at - deps.clock()), ALBUM_SETTLE_SECONDS))
        await wake(deps, wakeup)

    def _release(self, update_id: int) -> None:
        try:
            self._ledger.release_update(update_id)
        except StoreUnavailable:
            logger.exception("claim could not be released; it goes stale and a redelivery takes it over")

    async def _process(self, data: dict[str, Any]) -> None:
        app = await self._application()
        await app.process_update(Update.de_json(data, app.bot))
        if self._redeliveries.take(data["update_id"]):
            raise RedeliveryWanted("the update failed in a way its redelivery can get past")

    async def _application(self) -> Application:  # type: ignore[type-arg]
        if self._app is None:
            app = self._make_application()
            await app.initialize()
            self._app = app
        return self._app
