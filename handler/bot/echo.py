"""Echo of any other text (the walking skeleton's placeholder for the conversation)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.common import say


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the user's text back."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(say(update, "echo", text=message.text))
