"""Inline buttons: every tap is answered; stale or forged ones are refused harmlessly."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.dialog import converse
from handler.core.callbacks import parse_callback


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Parse the callback data (generation-stamped) and run it through the conversation."""
    query = update.callback_query
    if query is None:
        return
    await converse(update, context, parse_callback(query.data))
