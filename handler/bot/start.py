"""/start: the greeting."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.common import say


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user in their language."""
    if update.effective_message is None:
        return
    name = update.effective_user.first_name if update.effective_user else ""
    await update.effective_message.reply_text(say(update, "start", name=name))
