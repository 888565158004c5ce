"""Building the python-telegram-bot Application and wiring its handlers."""

from __future__ import annotations

from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from handler.bot.buttons import on_tap
from handler.bot.commands import on_command, on_unknown_command
from handler.bot.dialog import Deps
from handler.bot.errors import on_error
from handler.bot.other_input import on_edited, on_group, on_other, on_text
from handler.bot.pictures import on_picture
from handler.bot.stats import on_stats
from handler.core.commands import COMMANDS

# The updates the bot subscribes to (setWebhook / getUpdates `allowed_updates`).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]

PICTURES = filters.PHOTO | (filters.Document.ALL & ~filters.ANIMATION)


def wire(app: Application) -> None:  # type: ignore[type-arg]
    """Register every handler, in order: within the group, the first handler that matches wins."""
    private = filters.ChatType.PRIVATE
    # Groups and edited messages first: nothing else may act on them.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edited))
    app.add_handler(MessageHandler(~private & filters.UpdateType.MESSAGE, on_group))
    app.add_handler(CallbackQueryHandler(on_tap))
    # Known commands before the catch-all for unknown ones.
    app.add_handler(CommandHandler(list(COMMANDS), on_command, filters=private))
    app.add_handler(CommandHandler("stats", on_stats, filters=private))  # administrators only
    app.add_handler(MessageHandler(private & filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(private & PICTURES, on_picture))
    app.add_handler(MessageHandler(private & filters.TEXT, on_text))
    # Whatever is left (stickers, voice, video, locations, ...) last.
    app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, on_other))
    app.add_error_handler(on_error)


def build_application(bot: ExtBot, deps: Deps, *, with_updater: bool) -> Application:  # type: ignore[type-arg]
    """The Application for the webhook (no updater) or for long polling (with one), on the bot that the Telegram
    gateway of `deps` also calls through (the handlers reach Telegram only through the gateway)."""
    builder: ApplicationBuilder = Application.builder().bot(bot)  # type: ignore[type-arg]
    if not with_updater:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["deps"] = deps
    wire(app)
    return app
