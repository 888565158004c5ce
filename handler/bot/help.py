"""/help: what the bot can do."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.common import say


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(say(update, "help"))
