"""Local mode (`make run`): clear guidance without a token."""

from __future__ import annotations

import os
import subprocess
import sys

from infra.local.lambda_emulator import ROOT


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
