"""Commands that work in every state: /start, /help, /cancel, /settings, /styles, /forget."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.dialog import converse
from handler.core.inputs import Command

COMMANDS = ("start", "help", "cancel", "settings", "styles", "forget")


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run a known command through the conversation."""
    message = update.effective_message
    name = (message.text or "").split()[0].lstrip("/").split("@")[0].lower() if message else ""
    await converse(update, context, Command(name))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user the command is unknown (the state stays where it was)."""
    await converse(update, context, Command("?"))
