"""Everything else a person can send: text, stickers, voice, video, ...; group chats and edited messages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.dialog import converse, deps, user_language
from handler.core.decide import unfollowed
from handler.core.inputs import Rejected, Text, Unfollowed

# Message kinds that are not pictures, by the attribute Telegram sets, with the reply's reason.
KINDS = (
    ("sticker", "sticker"),
    ("voice", "voice"),
    ("audio", "voice"),
    ("video", "video"),
    ("video_note", "video"),
    ("animation", "animation"),
    ("location", "location"),
    ("venue", "location"),
    ("contact", "contact"),
)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text where the conversation expects something else: a hint, state unchanged."""
    message = update.effective_message
    await converse(update, context, Text(message.text or "" if message else ""))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, voice, video, location... : say what is needed instead."""
    message = update.effective_message
    reason = next((r for attr, r in KINDS if message is not None and getattr(message, attr, None)), "other")
    await converse(update, context, Rejected(reason))


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot works in private chats; say so in groups (nothing is stored)."""
    await _answer_unfollowed(update, context, Unfollowed.GROUP)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edited messages are not followed; ask for a new one (nothing changes)."""
    await _answer_unfollowed(update, context, Unfollowed.EDITED)


async def _answer_unfollowed(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Unfollowed) -> None:
    if update.effective_chat is not None:
        reply = unfollowed(event, user_language(update))
        await deps(context).telegram.send_text(update.effective_chat.id, reply.text)
