"""`make run` as a person starts it: `python -m handler.local` in a subprocess against the fake Bot API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import ROOT
from tests.conftest import BOT_TOKEN


def run_local_mode(telegram: FakeBotApi, tmp_path: Path, **extra: str) -> str:
    """Start local mode with an empty weights folder and none of this process's bot, AWS or Stylebot settings
    (``extra`` adds some), wait until the bot runs (its command menus registered), stop it; its console output
    (stderr). It must have stopped cleanly, without a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "AWS_", "STYLEBOT_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "LOCAL_STATE_PATH": str(tmp_path / "state.sqlite3"),
        "STYLEBOT_WEIGHTS_DIR": str(tmp_path / "weights"),
        **extra,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "handler.local"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        telegram.wait_for(lambda calls: sum(c.method == "setMyCommands" for c in calls) >= 2, timeout=90)
    finally:
        process.terminate()
        err = process.communicate(timeout=60)[1].decode()
    assert process.returncode == 0 and "Traceback" not in err, err
    return err
