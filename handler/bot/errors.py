"""The one global error handler: log without secrets, tell the user, never go silent."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handler.bot.common import say

logger = Logger(service="stylebot", child=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and apologise to the user, if there is one to tell."""
    error = context.error
    logger.error(
        "update failed",
        extra={"error_type": type(error).__name__, "update_id": getattr(update, "update_id", None)},
        exc_info=error,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, say(update, "error"))
        except TelegramError:
            logger.warning("could not tell the user about the failure")
