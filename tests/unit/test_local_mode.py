"""Local mode (`make run`): clear guidance without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from handler.core.commands import COMMANDS
from handler.core.texts import text
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import ROOT
from ml.manifest import FETCH_COMMAND
from tests.conftest import BOT_TOKEN
from tests.factories import message_update
from tests.local_mode import run_local_mode


def test_without_a_token_local_mode_says_how_to_get_one() -> None:
    # Given no bot token in the environment
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    # When local mode starts
    result = subprocess.run(
        [sys.executable, "-m", "handler.local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    # Then it exits with one clear line that names BotFather and the variable to set
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "@BotFather" in lines[0] and "TELEGRAM_BOT_TOKEN=" in lines[0]


def test_local_mode_answers_through_long_polling(telegram: FakeBotApi, tmp_path: Path) -> None:
    # Given local mode started with a token, against a Bot API server (here the fake one)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "AWS_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "LOCAL_STATE_PATH": str(tmp_path / "state.sqlite3"),
        "STYLEBOT_FETCH_WEIGHTS": "0",  # no first-run download (tests/unit/test_local_mode_first_run.py has it)
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "handler.local"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        # When a user sends /start (delivered by getUpdates, with no AWS account anywhere)
        telegram.queue_update(message_update("/start", user_id=6001))
        # Then the bot greets them
        calls = telegram.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls), timeout=60)
        (reply,) = [c for c in calls if c.method == "sendMessage"]
        assert reply.chat_id == 6001 and "Ada" in (reply.text or "")
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    # And the token never shows up in what local mode prints
    assert BOT_TOKEN not in output


def test_without_weights_local_mode_says_in_one_line_what_is_off_and_registers_its_command_menus(
    telegram: FakeBotApi, tmp_path: Path
) -> None:
    # Given a fresh clone: no weights downloaded (an empty weights folder), no manifest of test weights, and the
    # first-run download switched off (it reaches the internet; tests/unit/test_local_mode_first_run.py has it)
    # When it has started (it registers the command menus as it does)
    err = run_local_mode(telegram, tmp_path, STYLEBOT_FETCH_WEIGHTS="0")
    # Then one line on the console says what is off, that fetching needs the internet, and the command
    lines = [line for line in err.splitlines() if FETCH_COMMAND in line]
    assert len(lines) == 1, err
    assert "best quality" in lines[0] and "Monet" in lines[0] and "internet" in lines[0]
    # And Telegram has the command menu, in English for everyone and in Russian for Russian users
    assert telegram.commands == {
        "": [(name, text(f"cmd_{name}", "en")) for name in COMMANDS],
        "ru": [(name, text(f"cmd_{name}", "ru")) for name in COMMANDS],
    }
