"""Local mode: the same handlers with long polling and the embedded state store. No AWS account needed."""

from __future__ import annotations

import logging
import sys

from handler import credentials
from handler.bot.application import ALLOWED_UPDATES
from handler.settings import get_settings
from handler.wiring.local import local_bot

HOW_TO_GET_A_BOT = (
    "No bot token: in Telegram, ask @BotFather for /newbot, then run: TELEGRAM_BOT_TOKEN=<token> make run"
)


def main() -> int:
    """Run the bot with long polling until Ctrl+C."""
    settings = get_settings()
    try:
        credentials.bot_token(settings)
    except credentials.MissingSecret:
        print(HOW_TO_GET_A_BOT, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app, dispatcher = local_bot(settings)
    print("Stylebot is running with long polling. Press Ctrl+C to stop.", file=sys.stderr)
    try:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
    finally:
        dispatcher.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
