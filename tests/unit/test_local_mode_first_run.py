"""`make run` on a fresh machine: before the bot starts, local mode fetches the weights it would offer but lacks
(with a progress line per file, trusting an unpinned preset on its first download), says how to skip that, and
offline says what is missing and runs with the rest. `python -m handler.local` runs in a subprocess against the
fake Bot API, the weights come from a manifest of file:// URLs to tiny seeded files (or an unreachable server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handler.adapters.presets import catalogue
from handler.core.inputs import Catalogue
from handler.core.job import Quality
from infra.local.fake_bot_api import FakeBotApi
from ml import registry
from ml.manifest import FETCH_COMMAND
from tests.local_mode import run_local_mode as start_and_stop
from tests.ml_helpers import publish_tiny_weights

SKIP = "STYLEBOT_FETCH_WEIGHTS"
UNREACHABLE = "http://127.0.0.1:9/weights"  # the discard port: nothing listens, the connection is refused


def run_local_mode(telegram: FakeBotApi, tmp_path: Path, manifest: Path, **extra: str) -> str:
    """Local mode started with the weights of ``manifest`` and an empty weights folder; its console output."""
    return start_and_stop(telegram, tmp_path, STYLEBOT_MANIFEST=str(manifest), **extra)


def offer_here(tmp_path: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch) -> Catalogue:
    """What the bot offers with that weights folder and manifest (the catalogue local mode builds)."""
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(manifest))
    monkeypatch.delenv(registry.NONCOMMERCIAL_ENV, raising=False)
    return catalogue()


def test_the_first_run_fetches_what_the_bot_would_offer_with_progress_and_then_offers_it(
    telegram: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh machine with internet: no weights yet, VGG19 pinned, the presets without a published hash
    manifest = publish_tiny_weights(tmp_path)
    assert not offer_here(tmp_path, manifest, monkeypatch).complete
    # When `make run` starts local mode
    err = run_local_mode(telegram, tmp_path, manifest)
    lines = err.splitlines()
    # Then it first says how to skip the download
    skip_line = next(i for i, line in enumerate(lines) if f"{SKIP}=0" in line)
    first_progress = next(i for i, line in enumerate(lines) if "%" in line)
    assert skip_line < first_progress, err
    # And shows each file's progress, by name, to 100 %
    for item in json.loads(manifest.read_text()):
        assert any(item["filename"] in line and "100%" in line for line in lines), err
    # And each unpinned preset was trusted on its first download, loudly, its hash pinned in the manifest
    pins = {item["name"]: item["sha256"] for item in json.loads(manifest.read_text())}
    for preset in registry.PRESETS:
        assert pins[preset.weights] is not None
        (line,) = [line for line in lines if preset.weights in line and "trusted on first download" in line]
        assert pins[preset.weights] in line and "review and commit the pin" in line
    # And nothing is said to be off: the bot offers every preset and best quality
    assert not [line for line in lines if FETCH_COMMAND in line], err
    offer = offer_here(tmp_path, manifest, monkeypatch)
    assert offer.complete and Quality.BEST in offer.qualities
    assert [p.id for p in offer.presets] == [p.id for p in registry.PRESETS]


def test_the_first_run_fetch_is_skipped_when_the_setting_says_so(
    telegram: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh machine whose operator set STYLEBOT_FETCH_WEIGHTS=0
    manifest = publish_tiny_weights(tmp_path)
    # When local mode starts
    err = run_local_mode(telegram, tmp_path, manifest, **{SKIP: "0"})
    # Then nothing is downloaded, the one line says what is off and the command, and the bot runs with the rest
    assert "%" not in err and not (tmp_path / "weights").exists()
    (line,) = [line for line in err.splitlines() if FETCH_COMMAND in line]
    assert "best quality" in line and "Monet" in line
    assert not offer_here(tmp_path, manifest, monkeypatch).complete


def test_offline_the_first_run_says_what_is_missing_and_the_command_and_runs_with_the_rest(
    telegram: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh machine that cannot reach the weights' server
    manifest = publish_tiny_weights(tmp_path, base_url=UNREACHABLE)
    # When local mode starts
    err = run_local_mode(telegram, tmp_path, manifest)
    # Then, after the line on skipping, at most two lines say the download failed, what is off and the command
    lines = err.splitlines()
    start = next(i for i, line in enumerate(lines) if f"{SKIP}=0" in line)
    running = next(i for i, line in enumerate(lines) if "Stylebot is running" in line)
    said = [line for line in lines[start + 1 : running] if " INFO " not in line]
    assert 1 <= len(said) <= 2, err
    assert "download" in said[0].lower()
    (line,) = [line for line in said if FETCH_COMMAND in line]
    assert "best quality" in line and "Monet" in line
    # And the bot runs (the fixture saw its menus registered) with the quick quality it has
    offer = offer_here(tmp_path, manifest, monkeypatch)
    assert offer.qualities == (Quality.QUICK,) and not offer.presets
