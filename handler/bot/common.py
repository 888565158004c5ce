"""Small helpers shared by the feature modules."""

from __future__ import annotations

from telegram import Update

from handler.bot.texts import language_of, text


def lang(update: Update) -> str:
    """The language to answer this update in."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


def say(update: Update, key: str, **values: object) -> str:
    """The text `key` in the language of the update's user."""
    return text(key, lang(update), **values)
