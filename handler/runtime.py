"""The webhook's execution environment: one event loop and one Application, reused by every invocation.

A module-level Application driven by `asyncio.run` per invocation breaks on the second call: the HTTP client's
keep-alive connections belong to the first, now closed, loop ("Event loop is closed"), and PTB swallows the
error. So the loop is created once per execution environment and each invocation runs on it.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application

from handler import credentials
from handler.bot.application import build_application
from handler.bot.dialog import Deps
from handler.bot.errors import RETRY_MARK
from handler.core.ports import JobDispatcher, StateStore, StoreUnavailable, UpdateInProgress
from handler.core.presets import preset_catalog
from handler.core.webhook_request import SECRET_HEADER, BadRequest, WebhookRequest
from handler.settings import Settings, get_settings

logger = Logger(service="stylebot", child=True)


class RedeliveryWanted(RuntimeError):
    """Processing failed for a passing reason (state store down, contention): Telegram should redeliver."""


Response = dict[str, Any]


def webhook_secret(settings: Settings) -> SecretStr:
    """The webhook secret token, from TELEGRAM_WEBHOOK_SECRET or TELEGRAM_WEBHOOK_SECRET_PARAMETER."""
    return credentials.resolve(
        settings.telegram_webhook_secret,
        settings.telegram_webhook_secret_parameter,
        "TELEGRAM_WEBHOOK_SECRET (or TELEGRAM_WEBHOOK_SECRET_PARAMETER)",
        settings.parameter_max_age_seconds,
    )


def _response(status: HTTPStatus) -> Response:
    return {"statusCode": int(status), "headers": {"content-type": "text/plain"}, "body": status.phrase}


class WebhookRuntime:
    """Checks, deduplicates and processes webhook calls on one long-lived event loop."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        dispatcher: JobDispatcher,
        *,
        secret: Callable[[], SecretStr] | None = None,
        token: Callable[[], SecretStr] | None = None,
    ) -> None:
        self._settings = settings
        self._ledger = store
        self._deps = Deps(store=store, dispatcher=dispatcher, presets=preset_catalog())
        self._secret = secret or (lambda: webhook_secret(settings))
        self._token = token or (lambda: credentials.bot_token(settings))
        self._loop = asyncio.new_event_loop()
        self._app: Application | None = None  # type: ignore[type-arg]

    def handle(self, event: dict[str, Any]) -> Response:
        """Answer one API Gateway event: 403 without the right secret, 2xx once processed or a duplicate."""
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
        except BadRequest as error:
            logger.warning("not a Telegram update", extra={"reason": str(error)})
            return _response(HTTPStatus.BAD_REQUEST)
        update_id: int = data["update_id"]
        logger.append_keys(update_id=update_id)
        try:
            if not self._ledger.claim_update(update_id, stale_after=self._settings.update_claim_stale_seconds):
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

    def _release(self, update_id: int) -> None:
        try:
            self._ledger.release_update(update_id)
        except StoreUnavailable:
            logger.exception("claim could not be released; it goes stale and a redelivery takes it over")

    async def _process(self, data: dict[str, Any]) -> None:
        app = await self._application()
        await app.process_update(Update.de_json(data, app.bot))
        if data["update_id"] in app.bot_data.get(RETRY_MARK, set()):
            app.bot_data[RETRY_MARK].discard(data["update_id"])
            raise RedeliveryWanted("the update failed in a way its redelivery can get past")

    async def _application(self) -> Application:  # type: ignore[type-arg]
        if self._app is None:
            app = build_application(self._settings, self._token().get_secret_value(), self._deps, with_updater=False)
            await app.initialize()
            self._app = app
        return self._app


@cache
def default_runtime() -> WebhookRuntime:
    """The runtime of this execution environment, on DynamoDB, made on the first invocation."""
    import boto3

    from handler.adapters.dynamodb import DynamoDBStore, client_config
    from handler.adapters.lambda_dispatch import LambdaDispatcher

    settings = get_settings()
    if not settings.state_table or not settings.worker_function_name:
        raise RuntimeError("STATE_TABLE and WORKER_FUNCTION_NAME must be set")
    store = DynamoDBStore(
        boto3.client("dynamodb", config=client_config()),
        settings.state_table,
        claim_ttl_seconds=settings.update_claim_ttl_seconds,
    )
    dispatcher = LambdaDispatcher(boto3.client("lambda"), settings.worker_function_name)
    return WebhookRuntime(settings, store, dispatcher)
