"""Commands that work in every state: /start, /help, /cancel, /settings, /styles, /forget."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.dialog import converse
from handler.core.commands import command_menus
from handler.core.inputs import Command
from handler.core.ports import Telegram, TelegramFailed
from handler.observability import logger


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run a known command through the conversation."""
    message = update.effective_message
    name = (message.text or "").split()[0].lstrip("/").split("@")[0].lower() if message else ""
    await converse(update, context, Command(name))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user the command is unknown (the state stays where it was)."""
    await converse(update, context, Command("?"))


async def register_menus(telegram: Telegram) -> None:
    """Register the command menu in each language (local mode at start; the stack does it when deployed)."""
    try:
        for language_code, commands in command_menus():
            await telegram.set_commands(commands, language_code)
    except TelegramFailed as error:  # the bot works without a menu: say so and go on
        logger.warning("the command menu was not registered", extra={"reason": str(error)})
