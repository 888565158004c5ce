"""The Telegram gateway of every entry point: one PTB Bot on the classifying HTTP client, behind the port."""

from __future__ import annotations

from telegram.ext import ExtBot

from handler.adapters.telegram_gateway import BACKGROUND, BlockingTelegram, BotApiRequest, Road, TelegramGateway
from handler.settings import Settings


def telegram_bot(settings: Settings, token: str) -> ExtBot:  # type: ignore[type-arg]
    """PTB's Bot on the HTTP client that tells the gateway what Telegram did (the webhook's Application runs on
    it too)."""
    return ExtBot(token, base_url=settings.bot_api_url, base_file_url=settings.bot_file_url, request=BotApiRequest())


def telegram_gateway(bot: ExtBot, road: Road) -> TelegramGateway:  # type: ignore[type-arg]
    """The `Telegram` port over `bot`, with the patience of `road` (the webhook's, or the background's)."""
    return TelegramGateway(bot, road)


def blocking_telegram(settings: Settings, token: str) -> BlockingTelegram:
    """The gateway of blocking code (the worker, the failure destination, the webhook registration)."""
    return BlockingTelegram(telegram_gateway(telegram_bot(settings, token), BACKGROUND))
