"""Wiring of the webhook function: DynamoDB, the Lambda dispatcher and PTB's Application, made once per container."""

from __future__ import annotations

from functools import cache

from pydantic import SecretStr
from telegram.ext import Application

from handler import credentials
from handler.adapters.lambda_dispatch import LambdaDispatcher
from handler.adapters.lambda_timer import LambdaTimer
from handler.adapters.presets import PreviewFiles, catalogue
from handler.adapters.telegram_gateway import WEBHOOK
from handler.bot.application import build_application
from handler.bot.dialog import Deps, Redeliveries
from handler.bot.endpoint import WebhookEndpoint
from handler.settings import Settings, WebhookSettings, load_settings
from handler.wiring.parts import dynamodb_store
from handler.wiring.telegram import telegram_bot, telegram_gateway
from handler.wiring.usage import dynamodb_usage


@cache
def settings() -> WebhookSettings:
    """The webhook's settings, checked once (at import of the entry point)."""
    return load_settings(WebhookSettings, "WebhookFunction")


def webhook_secret(settings: Settings) -> SecretStr:
    """The webhook secret token, from TELEGRAM_WEBHOOK_SECRET or TELEGRAM_WEBHOOK_SECRET_PARAMETER."""
    return credentials.resolve(
        settings.telegram_webhook_secret,
        settings.telegram_webhook_secret_parameter,
        "TELEGRAM_WEBHOOK_SECRET (or TELEGRAM_WEBHOOK_SECRET_PARAMETER)",
        settings.parameter_max_age_seconds,
    )


@cache
def endpoint() -> WebhookEndpoint:
    """The endpoint of this execution environment, made on the first invocation."""
    import boto3

    config = settings()
    store = dynamodb_store(config, config.state_table)
    lambdas = boto3.client("lambda")
    dispatcher = LambdaDispatcher(lambdas, config.worker_function_name)
    # An album's wakeup: an asynchronous invocation of this very function (`handler.core.decide`, albums).
    own_name = config.aws_lambda_function_name
    timer = LambdaTimer(lambdas, own_name) if own_name else None
    redeliveries = Redeliveries()
    usage, queue = dynamodb_usage(config.state_table)

    def make_application() -> Application:  # type: ignore[type-arg]
        bot = telegram_bot(config, credentials.bot_token(config).get_secret_value())
        deps = Deps(
            store=store,
            dispatcher=dispatcher,
            telegram=telegram_gateway(bot, WEBHOOK),
            catalogue=catalogue(),
            redeliveries=redeliveries,
            usage=usage,
            queue=queue,
            limits=config.operator_limits,
            concurrency=config.worker_concurrency,
            price_per_gb_second=config.lambda_price_per_gb_second,
            timer=timer,
            previews=PreviewFiles(),
        )
        return build_application(bot, deps, with_updater=False)

    return WebhookEndpoint(
        store,
        make_application,
        redeliveries,
        secret=lambda: webhook_secret(config),
        claim_stale_seconds=config.update_claim_stale_seconds,
    )
