"""The wakeup's event: what the webhook sends itself for an album, and nothing else passes for one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handler.core.inputs import AlbumDue
from handler.core.wakeup import WAKEUP_KEY, Wakeup

EVENTS = Path(__file__).parents[2] / "events"
WAKEUP = Wakeup(user_id=42, chat_id=42, telegram_language="ru", due=AlbumDue("13579", 7), at=1_700_000_000.5)


def test_a_wakeup_goes_through_its_json_event_unchanged_and_small() -> None:
    event = json.loads(json.dumps(WAKEUP.to_event()))
    assert Wakeup.from_event(event) == WAKEUP
    assert len(json.dumps(event)) < 300


@pytest.mark.parametrize("stored", ["http-api-webhook.json", "rest-api-webhook.json", "worker-job.json"])
def test_no_other_event_passes_for_a_wakeup(stored: str) -> None:
    assert Wakeup.from_event(json.loads((EVENTS / stored).read_text())) is None


@pytest.mark.parametrize(
    "change",
    [{"user_id": "42"}, {"generation": None}, {"album_id": 5}, {"at": "soon"}, {"language": 3}, {WAKEUP_KEY: "x"}],
)
def test_a_malformed_wakeup_is_none(change: dict[str, object]) -> None:
    assert Wakeup.from_event({**WAKEUP.to_event(), **change}) is None
