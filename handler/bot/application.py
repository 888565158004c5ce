"""Building the python-telegram-bot Application and wiring its handlers."""

from __future__ import annotations

from telegram.ext import Application, ApplicationBuilder, CommandHandler, MessageHandler, filters

from handler.bot.echo import echo
from handler.bot.errors import on_error
from handler.bot.help import show_help
from handler.bot.start import start
from handler.settings import Settings

# The updates the bot subscribes to (setWebhook / getUpdates `allowed_updates`).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def wire(app: Application) -> None:  # type: ignore[type-arg]
    """Register every handler, in order: the first matching handler of a group wins."""
    # Commands first, so that "/help" is never taken for text to echo.
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", show_help))
    # Catch-all for text last.
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_error_handler(on_error)


def build_application(settings: Settings, token: str, *, with_updater: bool) -> Application:  # type: ignore[type-arg]
    """The Application for the webhook (no updater) or for long polling (with one)."""
    builder: ApplicationBuilder = (  # type: ignore[type-arg]
        Application.builder().token(token).base_url(settings.bot_api_url).base_file_url(settings.bot_file_url)
    )
    if not with_updater:
        builder = builder.updater(None)
    app = builder.build()
    wire(app)
    return app
