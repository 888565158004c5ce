"""Local mode (`make run`) end to end: long polling, the SQLite store and the local worker pool run a job."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import ROOT
from tests.conftest import BOT_TOKEN
from tests.driver import Person
from tests.ml_helpers import write_test_weights

FIXTURES = Path(__file__).parents[1] / "fixtures" / "images"
ANSWERS = ("sendMessage", "editMessageText", "answerCallbackQuery")


class Polling:
    """Delivers updates the way long polling does (getUpdates), waiting until the bot has answered."""

    def __init__(self, telegram: FakeBotApi) -> None:
        self.telegram = telegram

    def invoke(self, event: dict[str, Any]) -> Any:
        update = json.loads(base64.b64decode(event["body"]))
        before = sum(1 for c in self.telegram.calls if c.method in ANSWERS)
        self.telegram.queue_update(update)
        self.telegram.wait_for(lambda calls: sum(1 for c in calls if c.method in ANSWERS) > before, timeout=60)
        time.sleep(0.3)  # let the bot finish the update (edits after the answer)
        return {"statusCode": 200}


@pytest.fixture
def local_bot(telegram: FakeBotApi, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    weights = tmp_path / "weights"
    manifest = write_test_weights(weights)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "AWS_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "LOCAL_STATE_PATH": str(tmp_path / "state.sqlite3"),
        "STYLEBOT_WEIGHTS_DIR": str(weights),
        "STYLEBOT_MANIFEST": str(manifest),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "handler.local"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    yield process
    process.terminate()
    output = process.communicate(timeout=30)[0].decode()
    assert BOT_TOKEN not in output


def test_local_mode_runs_a_preset_job_and_sends_the_result(
    local_bot: subprocess.Popen[bytes], telegram: FakeBotApi
) -> None:
    # Given a person chatting with the bot in local mode (no AWS anywhere)
    p = Person(Polling(telegram), telegram, 6100)
    # When they pick a preset, send a photo and start
    p.send("/styles")
    p.tap("Monet")
    p.send_photo((FIXTURES / "chelsea.png").read_bytes())
    p.tap(p.t("btn_start"))
    # Then the local worker pool runs it and the photo arrives, at the photo's size
    calls = telegram.wait_for(lambda calls: any(c.method == "sendPhoto" for c in calls), timeout=180)
    (result,) = [c for c in calls if c.method == "sendPhoto"]
    assert result.chat_id == 6100
    import io

    assert Image.open(io.BytesIO(result.files["photo"])).size == (451, 300)
