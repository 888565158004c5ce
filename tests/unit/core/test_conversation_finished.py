"""Issue 13, the conversation finished: what a user meets, each seen failing on the tree before it."""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import replace
from pathlib import Path

import pytest

from handler.adapters.presets import catalogue
from handler.core.callbacks import callback_data, parse_callback
from handler.core.decide import decide
from handler.core.inputs import AlbumReply, Catalogue, Command, NotQueued, Picture, PresetInfo, Situation, Tap
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.keyboards import result_keyboard
from handler.core.state import Flow, Step, UserState
from handler.core.texts import TEXTS, help_text, text
from ml import registry
from ml.manifest import FETCH_COMMAND, manifest

MONET = PresetInfo("monet", {"en": "Monet", "ru": "Моне"})
VANGOGH = PresetInfo("vangogh", {"en": "Van Gogh", "ru": "Ван Гог"})
CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(presets=(MONET,)), new_job_id="k" * 16)
OPTIONS = UserState(user_id=1, step=Step.NST_OPTIONS, flow=Flow(content_file_id="P", style_file_id="S"))


def labels(outcome: object) -> list[str]:
    reply = outcome.reply  # type: ignore[attr-defined]
    return [b.label for row in reply.keyboard for b in row]


def job(job_id: str, content: str, **options: object) -> Job:
    values: dict[str, object] = dict(
        job_id=job_id, user_id=1, chat_id=1, kind=Kind.NST, content_file_id=content, style_file_id="S" + content,
        quality=Quality.QUICK, size=512, strength=Strength.HIGH, keep_colors=False, as_file=False,
        language=Language.EN,
    )  # fmt: skip
    return Job.model_validate({**values, **options})


# --- 1. offer only what can run --------------------------------------------------------------------------------


def test_without_weights_no_preset_and_no_best_quality_are_offered_and_help_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine with no downloaded weights, and one with the Monet weights present and pinned
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv("STYLEBOT_MANIFEST", raising=False)
    empty = catalogue()
    # Then nothing that would fail is offered: no preset, only quick quality
    assert empty.presets == () and empty.qualities == (Quality.QUICK,)
    state = replace(OPTIONS, flow=replace(OPTIONS.flow, quality=Quality.QUICK))
    outcome = decide(state, Tap("o", 0, "size:1024"), replace(CTX, catalogue=empty))
    assert not any("Quality" in label for label in labels(outcome))
    assert decide(state, Tap("o", 0, "q:best"), replace(CTX, catalogue=empty)).toast == text("outdated", "en")
    # And /help says in one line what is missing and the one command that adds it
    helped = decide(UserState(user_id=1), Tap("m", 0, "help"), replace(CTX, catalogue=empty)).reply.text  # type: ignore[union-attr]
    line = helped.splitlines()[-1]
    assert "best quality" in line and "Monet" in line and FETCH_COMMAND in line
    # When the Monet weights are there and match their pin, Monet is offered, and nothing else
    monet = manifest()["cyclegan_style_monet"]
    (tmp_path / monet.filename).write_bytes(b"monet weights")
    override = tmp_path / "override.json"
    entry = {"name": monet.name, "filename": monet.filename, "url": monet.url, "licence": monet.licence,
             "sha256": hashlib.sha256(b"monet weights").hexdigest(), "size": 13}  # fmt: skip
    override.write_text(json.dumps([entry]), encoding="utf-8")
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(override))
    assert [p.id for p in catalogue().presets] == ["monet"]
    # And a file that does not match its pin is not
    (tmp_path / monet.filename).write_bytes(b"monet weightz")
    assert catalogue().presets == ()
    assert registry.runnable_qualities() == ["quick"]


@pytest.mark.parametrize("language", list(Language))
def test_without_any_preset_no_gallery_is_offered_and_every_road_to_one_says_why(language: Language) -> None:
    # Given a deployment where no preset can run
    empty = Catalogue(presets=(), qualities=(Quality.QUICK,), missing_presets=(MONET,), fetch_command=FETCH_COMMAND)
    ctx = replace(CTX, catalogue=empty)
    user = UserState(user_id=1, language=language)
    # Then neither the menu nor a photo sent first offers presets
    menu = decide(user, Command("start"), ctx)
    assert text("btn_presets", language) not in labels(menu)
    first = decide(user, Picture("P", 10), ctx)
    assert labels(first) == [text("btn_use_own_style", language)]
    # And /styles and an old menu's Presets button answer with what is missing and the command, no empty keyboard
    for outcome in (decide(user, Command("styles"), ctx), decide(menu.state, Tap("m", 1, "pre"), ctx)):
        assert outcome.reply is not None and outcome.reply.keyboard is None and not outcome.show_previews
        assert outcome.reply.text.startswith(text("no_presets", language))
        assert FETCH_COMMAND in outcome.reply.text and MONET.name(language) in outcome.reply.text
        assert outcome.state.step == Step.IDLE


# --- 2. result buttons bound to their job -----------------------------------------------------------------------


def test_change_options_under_the_first_of_two_results_restyles_the_first_jobs_photo() -> None:
    # Given two results, the second one newer, and the user has moved on
    first = job("first00000000001", "P1", strength=Strength.LOW, keep_colors=True, size=256)
    state = UserState(user_id=1, generation=9, flow=Flow(content_file_id="P2", style_file_id="SP2"))
    (row,) = result_keyboard("en", first.job_id)
    tap = parse_callback(callback_data(row[1].action, 3))  # stamped long ago
    assert isinstance(tap, Tap)
    # When they tap 🎚 under the first result
    outcome = decide(state, tap, replace(CTX, tapped_job=first))
    # Then the first job's photo and options come back, ready to start
    assert outcome.state.step == Step.NST_OPTIONS
    flow = outcome.state.flow
    assert (flow.content_file_id, flow.style_file_id, flow.strength, flow.keep_colors, flow.size) == (
        "P1", "SP1", Strength.LOW, True, 256,
    )  # fmt: skip
    # And once the job is gone, the user is told the picture is too old
    expired = decide(state, tap, CTX)
    assert expired.toast == text("result_expired", "en") and expired.state.step == state.step


# --- 4. buttons show state --------------------------------------------------------------------------------------


def test_option_buttons_show_the_current_values_the_screen_shows() -> None:
    state = replace(OPTIONS, flow=replace(OPTIONS.flow, keep_colors=True))
    outcome = decide(state, Tap("o", 0, "size:512"), CTX)
    assert "size: 512 px" in outcome.reply.text  # type: ignore[union-attr]
    assert labels(outcome)[:4] == ["📐 Size: 512 ▸", "💪 Strength: high ▸", "✓ Keep colours", "⚡ Quality: quick ▸"]
    # A tap moves one value on, and screen and button agree again
    after = decide(outcome.state, Tap("o", outcome.state.generation, "col:0"), CTX)
    assert "original colours: no" in after.reply.text and "☐ Keep colours" in labels(after)  # type: ignore[union-attr]


# --- 5. help as a new message ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
def test_help_comes_as_a_new_message_and_explains_the_flows(language: Language) -> None:
    outcome = decide(UserState(user_id=1, language=language), Tap("m", 0, "help"), CTX)
    assert outcome.reply is not None and not outcome.reply.edit  # the menu above stays
    assert outcome.state.generation == 0  # its buttons keep working
    assert outcome.reply.text.startswith(help_text(language).split("\n/start")[0])
    assert 3 <= sum(line.startswith("•") for line in help_text(language).splitlines()) <= 5


# --- 6. a photo first is welcome -------------------------------------------------------------------------------


def test_a_photo_first_is_kept_and_an_album_of_two_gets_one_answer() -> None:
    idle = UserState(user_id=1)
    first = decide(idle, Picture("P", 10, album_id="g1"), CTX)
    assert first.reply is not None and first.reply.album == AlbumReply.FIRST and first.reply.keyboard is None
    pair = decide(first.state, Picture("S", 11, album_id="g1"), CTX)
    assert pair.album_due is not None and pair.reply is not None and pair.reply.keyboard is None
    # One answer per album: once no third picture came, the first one's message becomes the choice
    second = decide(pair.state, pair.album_due, CTX)
    assert second.state.step == Step.PHOTO_CHOICE and second.state.flow.content_file_id == "P"
    assert second.reply is not None and second.reply.album == AlbumReply.UPDATE
    assert labels(second) == [text("btn_use_own_style", "en"), text("btn_apply_preset", "en")]
    own = decide(second.state, Tap("m", second.state.generation, "own"), CTX)
    assert own.state.step == Step.NST_OPTIONS and own.state.flow.style_file_id == "S"


# --- 7. idempotent Start ---------------------------------------------------------------------------------------


def test_a_second_tap_on_start_keeps_the_progress_cancel_button() -> None:
    started = decide(OPTIONS, Tap("o", 0, "go"), CTX)
    again = decide(started.state, Tap("o", 0, "go"), CTX)
    assert again.toast == text("already_started", "en")
    assert not again.remove_tapped_keyboard and again.job is None and again.reply is None


def test_start_on_a_newer_options_screen_while_a_job_runs_shows_its_status_with_a_working_cancel() -> None:
    started = decide(OPTIONS, Tap("o", 0, "go"), CTX)
    # The user goes through the flow again: a newer options screen, stamped with the current generation
    again = replace(started.state, step=Step.NST_OPTIONS, flow=OPTIONS.flow)
    busy = decide(again, Tap("o", again.generation, "go"), CTX)
    assert busy.job is None and busy.reply is not None and busy.reply.edit
    assert busy.reply.text == text("job_busy", "en", status=text("job_status_queued", "en"))
    assert text("btn_cancel_job", "en") in labels(busy)
    cancel = decide(busy.state, Tap("j", busy.state.generation, "cancel"), CTX)
    assert cancel.cancel_job == started.job.job_id  # type: ignore[union-attr]


# --- 9. a job that could not be queued ---------------------------------------------------------------------------


def test_a_job_that_could_not_be_queued_leaves_the_user_on_its_options_with_start() -> None:
    started = decide(OPTIONS, Tap("o", 0, "go"), CTX)
    assert started.job is not None
    back = decide(started.state, NotQueued(started.job), CTX)
    assert back.state.step == Step.NST_OPTIONS and back.state.active_job is None
    assert back.state.flow.content_file_id == "P" and back.state.flow.style_file_id == "S"
    assert back.reply is not None and back.reply.text.startswith(text("job_start_failed", "en"))
    assert text("btn_start", "en") in labels(back)
    assert back.state.valid()


# --- 10. both languages ---------------------------------------------------------------------------------------


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    english, russian = TEXTS[Language.EN], TEXTS[Language.RU]
    assert set(english) == set(russian)
    for key in english:
        assert _placeholders(english[key]) == _placeholders(russian[key]), key


def test_the_russian_copy_has_no_english_words_and_no_repeats_of_issue_13() -> None:
    russian = TEXTS[Language.RU]
    allowed = {
        "start",
        "help",
        "cancel",
        "settings",
        "styles",
        "forget",
        "JPEG",
        "PNG",
        "WebP",
        "GIF",
        "HEIC",
        "Telegram",
        "python",
        "m",
        "ml",
        "weights",
        "fetch",
        "UTC",
        "p",
    }  # fmt: skip  (the operator's /stats: the time zone and the percentiles p50/p95)
    for key, template in russian.items():
        words = set(re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", "", template))) - allowed
        assert not words, (key, words)
    assert "Готово. Параметры" not in russian["nst_options"]
    assert "сила: сильная" not in text("preset_options", "ru", preset="x", strength=russian["strength_high"])
