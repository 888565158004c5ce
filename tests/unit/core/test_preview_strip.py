"""The preview strip in the pure core: "👀 Preview" on the quick options screen starts a small job that takes no
quota and leaves the user free; a strength tapped under the strip sets it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handler.core.decide import decide
from handler.core.inputs import Catalogue, Outcome, Picture, Situation, Tap
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.keyboards import strip_keyboard
from handler.core.quotas import Allowance, QuotaKind
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text

CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(), new_job_id="prev000000000001")
OPTIONS = UserState(
    user_id=1, step=Step.NST_OPTIONS, generation=7, flow=Flow(content_file_id="PHOTO", style_file_id="STYLE")
)


def labels(outcome: Outcome) -> list[str]:
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    return [b.label for row in outcome.reply.keyboard for b in row]


@pytest.mark.parametrize("language", list(Language))
def test_preview_on_the_quick_options_starts_a_small_job_and_the_user_stays_on_the_options(
    language: Language,
) -> None:
    # Given the quick options screen
    state = replace(OPTIONS, language=language, flow=replace(OPTIONS.flow, strength=Strength.MID, size=1024))
    shown = decide(state, Tap("o", state.generation, "col:1"), CTX)
    assert text("btn_preview", language) in labels(shown)
    # When the user taps Preview
    outcome = decide(shown.state, Tap("o", shown.state.generation, "prev"), CTX)
    # Then a preview job of that photo and style goes to the worker, quick, with no progress message
    job = outcome.job
    assert job is not None and job.preview and job.kind == Kind.NST and job.quality == Quality.QUICK
    assert (job.content_file_id, job.style_file_id, job.keep_colors) == ("PHOTO", "STYLE", True)
    assert job.progress_message_id is None
    # And the user is told it is coming, stays on the options (free: no active job), the button gone
    assert outcome.toast == text("preview_coming", language)
    assert outcome.state.step == Step.NST_OPTIONS and outcome.state.active_job is None and outcome.state.valid()
    assert outcome.reply is not None and outcome.reply.edit
    assert text("btn_preview", language) not in labels(outcome)
    assert job.job_id in outcome.state.recent_jobs  # /forget finds its item
    # And Start still works from there
    started = decide(outcome.state, Tap("o", outcome.state.generation, "go"), replace(CTX, new_job_id="k" * 16))
    assert started.job is not None and not started.job.preview


def test_a_strength_tapped_under_the_strip_sets_it_on_that_photo_and_style() -> None:
    preview = Job(
        job_id="prev000000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="PHOTO", painting="udnie",
        preview=True, quality=Quality.QUICK, size=512, strength=Strength.HIGH, keep_colors=False, as_file=False,
        language=Language.EN,
    )  # fmt: skip
    (row,) = strip_keyboard("en", preview.job_id)
    assert [b.label for b in row] == [text(f"strength_{s}", "en") for s in Strength]
    low = row[0].action.split(":", 1)[1]
    # When the user taps "low" under the strip (even after the conversation moved on)
    outcome = decide(UserState(user_id=1, generation=30), Tap("r", 12, low), replace(CTX, tapped_job=preview))
    # Then the options of that photo and style come back (a new message) at that strength, no second preview
    assert outcome.state.step == Step.NST_OPTIONS and outcome.state.valid()
    assert outcome.state.flow.strength == Strength.LOW and outcome.state.flow.painting == "udnie"
    assert outcome.reply is not None and not outcome.reply.edit
    assert text("btn_preview", "en") not in labels(outcome)
    # Once the job is gone: too old
    assert decide(UserState(user_id=1), Tap("r", 12, low), CTX).toast == text("result_expired", "en")


def test_no_preview_at_best_quality_nor_when_quick_is_refused_and_a_new_style_offers_it_again() -> None:
    best = replace(OPTIONS, flow=replace(OPTIONS.flow, quality=Quality.BEST))
    shown = decide(best, Tap("o", best.generation, "col:1"), CTX)
    assert text("btn_preview", "en") not in labels(shown)
    assert decide(shown.state, Tap("o", shown.state.generation, "prev"), CTX).toast == text("outdated", "en")
    # Quick's quota used up today: no job, a short answer
    refused = replace(CTX, allowance=Allowance(limits={QuotaKind.QUICK: 1}, used={QuotaKind.QUICK: 1}))
    outcome = decide(OPTIONS, Tap("o", OPTIONS.generation, "prev"), refused)
    assert outcome.job is None and outcome.toast == text("preview_unavailable", "en")
    # A preview once; then a mix's second style (other styles) offers it again
    previewed = decide(OPTIONS, Tap("o", OPTIONS.generation, "prev"), CTX).state
    asking = decide(previewed, Tap("o", previewed.generation, "mix:1"), CTX)
    ratio = decide(asking.state, Picture("SECOND", 5), CTX)
    mixed = decide(ratio.state, Tap("o", ratio.state.generation, "ratio:50"), CTX)
    assert text("btn_preview", "en") in labels(mixed)
