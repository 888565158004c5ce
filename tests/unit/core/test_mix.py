"""Mixing two styles in the pure core: "➕ Mix with another style" on the options, a second style (a painting, a
recent style or a new picture), a ratio, and the job and caption that carry both."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handler.core.decide import decide
from handler.core.inputs import Catalogue, Outcome, PaintingInfo, Picture, Situation, Tap
from handler.core.job import Job, Kind, Language, MixRatio, Quality, Strength
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text
from handler.jobs.runner import result_details

SCREAM = PaintingInfo(
    "the_scream", {"en": "The Scream", "ru": "Крик"}, {}, {"en": "Edvard Munch", "ru": "Эдвард Мунк"}, {"en": "1893"}
)
CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(paintings=(SCREAM,)), new_job_id="k" * 16)
OPTIONS = UserState(
    user_id=1, step=Step.NST_OPTIONS, generation=7, flow=Flow(content_file_id="PHOTO", style_file_id="MINE")
)


def labels(outcome: Outcome) -> list[str]:
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    return [b.label for row in outcome.reply.keyboard for b in row]


def tap(outcome: Outcome, label: str) -> Tap:
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    (action,) = [b.action for row in outcome.reply.keyboard for b in row if b.label == label]
    prefix, _, arg = action.partition(":")
    return Tap(prefix, outcome.state.generation, arg)


def options(state: UserState = OPTIONS) -> Outcome:
    return decide(state, Tap("o", state.generation, "size:512"), CTX)


@pytest.mark.parametrize("language", list(Language))
def test_mix_a_picture_of_ones_own_with_a_painting(language: Language) -> None:
    # Given the options of a style picture the user sent
    shown = options(replace(OPTIONS, language=language))
    assert text("btn_mix", language) in labels(shown)
    # When they tap "Mix with another style"
    asking = decide(shown.state, tap(shown, text("btn_mix", language)), CTX)
    # Then the second style is asked for: a new picture, or the famous paintings, or back to the options
    assert asking.reply is not None and asking.reply.text == text("ask_mix_style", language) and asking.reply.edit
    assert labels(asking) == [text("btn_paintings", language), text("btn_back_to_options", language)]
    # When they open the paintings and pick The Scream
    gallery = decide(asking.state, tap(asking, text("btn_paintings", language)), CTX)
    assert gallery.show_paintings
    ratio = decide(gallery.state, tap(gallery, SCREAM.title(language)), CTX)
    # Then they are asked how much of each, naming both styles
    first, second = text("style_yours", language), text("painting_name", language, title=SCREAM.title(language))
    assert ratio.reply is not None and ratio.reply.text == text("mix_ratio_ask", language, first=first, second=second)
    assert labels(ratio) == ["70/30", "50/50", "30/70"]
    # When they take 30/70, the options come back saying so, with the mix's button now dropping it
    mixed = decide(ratio.state, tap(ratio, "30/70"), CTX)
    assert mixed.state.step == Step.NST_OPTIONS and mixed.state.valid()
    assert mixed.reply is not None and mixed.reply.text.startswith(
        text("mix_chosen", language, second=second, ratio="30/70")
    )
    assert text("btn_unmix", language) in labels(mixed)
    # And Start makes one job with both styles and the ratio
    job = decide(mixed.state, Tap("o", mixed.state.generation, "go"), CTX).job
    assert job is not None and job.kind == Kind.NST
    assert (job.style_file_id, job.painting, job.mix_style_file_id, job.mix_painting) == (
        "MINE", None, None, "the_scream",
    )  # fmt: skip
    assert job.mix_ratio == MixRatio.SECOND and job.mix_ratio.second_share == pytest.approx(0.7)
    # And the result's caption names both
    details = result_details(job, "", titles={"the_scream": SCREAM.title(language)})
    assert details.startswith(f"{first} + {second} (30/70)")


def test_mix_a_painting_with_a_new_picture_then_with_a_recent_one() -> None:
    painted = replace(OPTIONS, flow=Flow(content_file_id="PHOTO", painting="the_scream"), recent_styles=("OLD",))
    shown = options(painted)
    asking = decide(shown.state, tap(shown, text("btn_mix", "en")), CTX)
    assert labels(asking)[0] == text("btn_recent_style", "en", n=1)
    # A new picture as the second style
    ratio = decide(asking.state, Picture("NEW", 20), CTX)
    assert ratio.reply is not None and ratio.reply.text.startswith("Mixing The Scream with your second style.")
    mixed = decide(ratio.state, Tap("o", ratio.state.generation, "ratio:50"), CTX)
    assert (mixed.state.flow.mix_style_file_id, mixed.state.flow.mix_ratio) == ("NEW", MixRatio.EVEN)
    started = decide(mixed.state, Tap("o", mixed.state.generation, "go"), CTX)
    assert started.job is not None and started.job.mix_style_file_id == "NEW"
    assert started.state.recent_styles == ("NEW", "OLD")  # a picture the user sent, remembered
    # Or the recent one, dropped again afterwards
    asking = decide(shown.state, tap(shown, text("btn_mix", "en")), CTX)
    ratio = decide(asking.state, tap(asking, text("btn_recent_style", "en", n=1)), CTX)
    mixed = decide(ratio.state, Tap("o", ratio.state.generation, "ratio:70"), CTX)
    assert mixed.state.flow.mix_style_file_id == "OLD"
    dropped = decide(mixed.state, tap(mixed, text("btn_unmix", "en")), CTX)
    assert (dropped.state.flow.mix_style_file_id, dropped.state.flow.mix_ratio) == (None, None)
    assert dropped.state.flow.painting == "the_scream" and text("btn_mix", "en") in labels(dropped)


def test_back_to_the_options_and_nonsense_ratios() -> None:
    shown = options()
    asking = decide(shown.state, tap(shown, text("btn_mix", "en")), CTX)
    back = decide(asking.state, tap(asking, text("btn_back_to_options", "en")), CTX)
    assert back.state.step == Step.NST_OPTIONS and not back.state.flow.picking_mix and back.state.valid()
    assert back.state.flow.style_file_id == "MINE"
    ratio = decide(asking.state, Picture("NEW", 20), CTX)
    for arg in ("ratio:40", "ratio:", "go", "mix:1"):
        outcome = decide(ratio.state, Tap("o", ratio.state.generation, arg), CTX)
        assert outcome.toast == text("outdated", "en") and outcome.state.step == Step.MIX_RATIO
    # And presets have no mix
    preset = UserState(user_id=1, step=Step.PRESET_OPTIONS, flow=Flow(content_file_id="P", preset="monet"))
    assert decide(preset, Tap("o", 0, "mix:1"), CTX).toast == text("outdated", "en")


def test_the_buttons_under_a_mix_keep_it_or_start_afresh() -> None:
    job = Job(
        job_id="mixjob000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="PHOTO", style_file_id="MINE",
        mix_painting="the_scream", mix_ratio=MixRatio.EVEN, quality=Quality.BEST, size=256, strength=Strength.HIGH,
        keep_colors=False, as_file=False, language=Language.EN,
    )  # fmt: skip
    ctx = replace(CTX, tapped_job=job)
    again = decide(UserState(user_id=1), Tap("r", 1, f"opts:{job.job_id}"), ctx)
    assert again.state.flow.mix_painting == "the_scream" and again.state.flow.mix_ratio == MixRatio.EVEN
    other = decide(UserState(user_id=1), Tap("r", 1, f"style:{job.job_id}"), ctx)
    assert other.state.step == Step.NST_STYLE and other.state.valid()
    assert (other.state.flow.mix_painting, other.state.flow.mix_ratio) == (None, None)


def test_a_job_mixes_one_more_style_with_its_ratio() -> None:
    values: dict[str, object] = dict(
        job_id="mixjob000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="P", style_file_id="S",
        quality=Quality.QUICK, size=256, strength=Strength.MID, keep_colors=False, as_file=False, language=Language.EN,
    )  # fmt: skip
    assert Job.model_validate({**values, "mix_painting": "udnie", "mix_ratio": "70"}).mix_ratio == MixRatio.FIRST
    for wrong in (
        {"mix_painting": "udnie"},
        {"mix_ratio": "50"},
        {"mix_painting": "udnie", "mix_style_file_id": "M", "mix_ratio": "50"},
        {"mix_painting": "udnie", "mix_ratio": "40"},
    ):
        with pytest.raises(ValueError):
            Job.model_validate({**values, **wrong})
