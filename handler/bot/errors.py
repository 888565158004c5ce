"""The one global error handler: log without secrets, tell the user, never go silent."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.dialog import ConcurrentUpdateConflict, deps
from handler.core.ports import MaybeSent, StoreUnavailable, TelegramFailed
from handler.core.texts import language_of, text
from handler.observability import logger

# Failures that a redelivery of the same update can get past: the webhook answers non-2xx for them.
RETRYABLE = (StoreUnavailable, ConcurrentUpdateConflict)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure; ask for redelivery when that can help, otherwise apologise to the user."""
    error = context.error
    update_id = getattr(update, "update_id", None)
    if isinstance(error, RETRYABLE) and isinstance(update_id, int):
        logger.warning("update will be redelivered", extra={"error_type": type(error).__name__})
        deps(context).redeliveries.ask(update_id)
        return
    if isinstance(error, MaybeSent):
        # The state was saved before the reply went out, and the reply most likely arrived: neither a
        # redelivery (it would decide again on the saved state) nor an apology (it would ask the user to repeat
        # what already worked; a repeated photo would be taken as the next one) is right.
        logger.warning("a reply got no answer in time; it may have arrived, so nothing more is sent")
        return
    logger.error("update failed", extra={"error_type": type(error).__name__}, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        language = language_of(update.effective_user.language_code if update.effective_user else None)
        try:
            await deps(context).telegram.send_text(update.effective_chat.id, text("error", language))
        except TelegramFailed:
            logger.warning("could not tell the user about the failure")
