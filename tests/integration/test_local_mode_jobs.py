"""Local mode (`make run`) end to end: long polling, the SQLite store and the local worker pool run a job."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from handler.adapters.sqlite import SQLiteStore
from handler.core.job import JobStatus
from handler.core.limits import ALBUM_SETTLE_SECONDS
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import ROOT
from tests.conftest import BOT_TOKEN
from tests.driver import Person, is_progress, message_id_of
from tests.ml_helpers import write_test_weights
from tests.pipeline import results

FIXTURES = Path(__file__).parents[1] / "fixtures" / "images"
ANSWERS = ("sendMessage", "editMessageText", "answerCallbackQuery")

# Slow tier (`make test-all`): `python -m handler.local` in a subprocess runs whole jobs; local mode answering through
# long polling stays in the fast tier (tests/unit/test_local_mode.py), the worker pool's jobs in tests/unit/jobs/.
pytestmark = pytest.mark.slow


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
        "STYLEBOT_FETCH_WEIGHTS": "0",  # every weight is there; never the network
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


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_stopping_local_mode_cancels_the_running_job_tells_its_user_and_prints_no_traceback(
    stop: str, telegram: FakeBotApi, tmp_path: Path
) -> None:
    # Given local mode with every weight present, in a session of its own (as in a terminal)
    weights = tmp_path / "weights"
    manifest = write_test_weights(weights)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "AWS_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "LOCAL_STATE_PATH": str(tmp_path / "state.sqlite3"),
        "STYLEBOT_WEIGHTS_DIR": str(weights),
        "STYLEBOT_MANIFEST": str(manifest),
        "STYLEBOT_FETCH_WEIGHTS": "0",  # every weight is there; never the network
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "handler.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        # And a person whose best-quality picture is being made (a minute or more of work)
        p = Person(Polling(telegram), telegram, 6200)
        p.send("/start")
        p.tap(p.t("btn_nst"))
        p.send_photo((FIXTURES / "chelsea.png").read_bytes())
        p.send_document((FIXTURES / "brick.png").read_bytes(), "image/png", file_name="brick.png")
        p.tap("⚡")  # quick -> best
        p.tap(p.t("btn_start"))
        if stop == "ctrl-c":  # stopped while its progress is text
            telegram.wait_for(lambda calls: any("%" in (c.text or "") for c in calls if c.chat_id == 6200), timeout=120)
        else:  # stopped once its progress is a photo of the picture forming (from the first pyramid level's end)
            telegram.wait_for(lambda calls: any(c.method == "sendPhoto" and is_progress(c) for c in calls), timeout=180)
        # When the bot is stopped: Ctrl+C interrupts every process of the terminal's group, SIGTERM the bot alone
        if stop == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = out.decode() + err.decode()
    # Then it ends cleanly: exit code 0, no traceback, and it says what it did
    assert process.returncode == 0, output[-3000:]
    assert "Traceback" not in output and "Errno" not in output, output[-3000:]
    assert "1 unfinished picture(s) cancelled" in err.decode()
    # And the job was cancelled, not finished: its progress message (text, or the photo of the picture forming)
    # ended as "the bot was stopped", Cancel gone, the only such word; no result went out; the user is free
    said = [c for c in p.calls() if c.method in ("sendMessage", "editMessageText", "editMessageCaption")]
    words = [c.params.get("text") or c.params.get("caption") for c in said]
    assert words[-1] == p.t("job_stopped") and words.count(p.t("job_stopped")) == 1 and not said[-1].reply_markup
    assert results(p) == []
    store = SQLiteStore(tmp_path / "state.sqlite3", claim_ttl_seconds=3600)
    state = store.load(6200)
    assert state.active_job is None and store.job_status(6200, state.recent_jobs[-1]) == JobStatus.FAILED
    # And no worker process is left behind
    assert left_in_group(process.pid) == []


def left_in_group(pgid: int, within: float = 10.0) -> list[str]:
    """The command lines of the processes of the group `pgid` still running after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        left = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    left.append((stat.parent / "cmdline").read_text().replace("\0", " "))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_local_mode_refuses_an_album_of_three_before_any_keyboard_and_shows_an_album_of_two_its_options(
    local_bot: subprocess.Popen[bytes], telegram: FakeBotApi
) -> None:
    # Given a person in local mode asked for the photo to restyle
    p = Person(Polling(telegram), telegram, 6300)
    p.send("/start")
    p.tap(p.t("btn_nst"))
    before = len(p.shown())
    # When they send an album of three (long polling hands its updates over together, in one getUpdates)
    for message_id in (9301, 9302, 9303):
        telegram.queue_update(p.photo_update(album="local3", message_id=message_id))
    # Then its one message ends as the refusal
    telegram.wait_for(lambda _: p.last_text() == p.t("album_too_big"), timeout=60)
    # And, the album's wakeup come and gone, no keyboard appeared in the chat at any point
    time.sleep(ALBUM_SETTLE_SECONDS + 1.5)
    album = p.shown()[before:]
    assert not [c for c in album if c.reply_markup]
    assert [c.text for c in album] == [p.t("album_first"), p.t("album_got"), p.t("album_too_big")]
    # When they send an album of two
    before = len(p.shown())
    for message_id in (9401, 9402):
        telegram.queue_update(p.photo_update(album="local2", message_id=message_id))
    telegram.wait_for(lambda _: p.last_text() == p.t("album_got"), timeout=60)
    answered = time.monotonic()
    # Then, a moment later, the same message shows the options
    telegram.wait_for(lambda _: bool(p.last().reply_markup), timeout=ALBUM_SETTLE_SECONDS + 5)
    assert ALBUM_SETTLE_SECONDS - 0.5 < time.monotonic() - answered < ALBUM_SETTLE_SECONDS + 5
    album = p.shown()[before:]
    assert [c.method for c in album] == ["sendMessage", "editMessageText", "editMessageText"]
    assert "options" in (album[-1].text or "") and album[-1].params["message_id"] == str(message_id_of(album[0]))
