"""Local mode: the same handlers with long polling and the embedded state store. No AWS account needed.

On its first run it downloads the weights it would offer but lacks (VGG19 for best quality, the presets the
licence settings allow), with a progress line per file; ``STYLEBOT_FETCH_WEIGHTS=0`` skips that. Offline it
says what is off and the command that fetches it later, and runs with the rest.

Ctrl+C or SIGTERM stops it cleanly: the pictures still being made (or queued) are cancelled, each user told so
once and freed, and the worker processes exit before the bot does.
"""

from __future__ import annotations

import logging
import signal
import sys

from handler import credentials
from handler.adapters.first_run import fetch_missing_weights
from handler.adapters.presets import weights_notice
from handler.bot.application import ALLOWED_UPDATES
from handler.settings import get_settings
from handler.wiring.local import local_bot

# What asyncio raises when a stop signal ends PTB's event loop while the bot is still starting.
STOPPED_WHILE_STARTING = "Event loop stopped before Future completed"
HOW_TO_GET_A_BOT = (
    "No bot token: in Telegram, ask @BotFather for /newbot, then run: TELEGRAM_BOT_TOKEN=<token> make run"
)


def main() -> int:
    """Run the bot with long polling until Ctrl+C or SIGTERM."""
    settings = get_settings()
    try:
        credentials.bot_token(settings)
    except credentials.MissingSecret:
        print(HOW_TO_GET_A_BOT, file=sys.stderr)
        return 2
    try:
        if settings.stylebot_fetch_weights:
            fetch_missing_weights(sys.stderr)
    except KeyboardInterrupt:  # Ctrl+C while downloading: nothing runs yet
        return 130
    except Exception as error:  # the first-run fetch never keeps the bot from starting with what it has
        print(f"Could not fetch the missing weights ({error}); the bot runs without them.", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        bot = local_bot(settings)
    except KeyboardInterrupt:  # Ctrl+C while starting: nothing runs yet
        return 130
    notice = weights_notice(bot.offer)
    if notice is not None:
        print(notice, file=sys.stderr)
    print("Stylebot is running with long polling. Press Ctrl+C to stop.", file=sys.stderr)
    try:
        bot.app.run_polling(allowed_updates=ALLOWED_UPDATES)  # returns on SIGINT, SIGTERM or SIGABRT
    except RuntimeError as error:
        # A stop signal during PTB's own start-up stops its event loop before the start has finished, and PTB then
        # raises this instead of returning. Nothing was being polled yet: it is a stop like any other.
        if not str(error).startswith(STOPPED_WHILE_STARTING):
            raise
    finally:
        # A second Ctrl+C must not cut the stop short: the jobs are told to stop and end within seconds.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stopped = bot.dispatcher.shutdown()
        told = f": {stopped} unfinished picture(s) cancelled, their users told" if stopped else ""
        print(f"Stylebot stopped{told}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
