"""Local mode: the same handlers with long polling and the embedded state store. No AWS account needed."""

from __future__ import annotations

import logging
import sys

from handler import credentials
from handler.adapters.local_dispatch import LocalPoolDispatcher
from handler.adapters.sqlite import SQLiteStore
from handler.adapters.telegram_messenger import BotMessenger
from handler.bot.application import ALLOWED_UPDATES, build_application
from handler.bot.dialog import Deps
from handler.core.presets import preset_catalog
from handler.jobs.runner import JobRunner
from handler.jobs.runtime import NoEngine
from handler.settings import get_settings

HOW_TO_GET_A_BOT = (
    "No bot token: in Telegram, ask @BotFather for /newbot, then run: TELEGRAM_BOT_TOKEN=<token> make run"
)


def main() -> int:
    """Run the bot with long polling until Ctrl+C."""
    settings = get_settings()
    try:
        token = credentials.bot_token(settings)
    except credentials.MissingSecret:
        print(HOW_TO_GET_A_BOT, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and those URLs hold the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    store = SQLiteStore(settings.local_state_path, claim_ttl_seconds=settings.update_claim_ttl_seconds)
    notifier = JobRunner(store, BotMessenger(settings, token.get_secret_value()), NoEngine())
    dispatcher = LocalPoolDispatcher(notifier, settings.local_workers)
    deps = Deps(store=store, dispatcher=dispatcher, presets=preset_catalog())
    app = build_application(settings, token.get_secret_value(), deps, with_updater=True)
    print("Stylebot is running with long polling. Press Ctrl+C to stop.", file=sys.stderr)
    try:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
    finally:
        dispatcher.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
