"""Quotas and the daily budget in the conversation core: what a user sees at Start and in the options."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handler.core.decide import decide
from handler.core.inputs import Catalogue, NotQueued, PresetInfo, Situation, Tap
from handler.core.job import Language, Quality
from handler.core.quotas import (
    Allowance,
    BudgetLevel,
    Limits,
    QuotaKind,
    Refusal,
    RefusalReason,
    budget_level,
    clock_time,
    next_reset,
)
from handler.core.state import Flow, Step, UserState
from handler.core.texts import pictures, text

NOW = 1_767_225_600.0 + 19 * 3600 + 12 * 60  # 2026-01-01 19:12 UTC
LIMITS = {QuotaKind.QUICK: 50, QuotaKind.BEST: 2, QuotaKind.PRESET: 30}
# Everything offered, as with all weights present: the quotas and the budget decide alone here.
PRESETS = (PresetInfo("monet", {"en": "Monet", "ru": "Моне"}),)
CTX = Situation(now=NOW, chat_id=1, catalogue=Catalogue(presets=PRESETS), new_job_id="j" * 16, tapped_message_id=5)


def options(quality: Quality = Quality.QUICK, language: Language = Language.EN) -> UserState:
    flow = Flow(content_file_id="PHOTO", style_file_id="STYLE", quality=quality)
    return UserState(user_id=7, step=Step.NST_OPTIONS, flow=flow, language=language)


def allowance(best_used: int = 0, budget: BudgetLevel = BudgetLevel.OPEN, zone: str | None = None) -> Allowance:
    return Allowance(
        used={QuotaKind.BEST: best_used}, limits=LIMITS, budget=budget, resets_at=next_reset(NOW), time_zone=zone
    )


@pytest.mark.parametrize("language", list(Language))
def test_a_user_at_the_quota_is_refused_politely_with_the_reset_time_and_keeps_the_options(
    language: Language,
) -> None:
    # Given a user who made today's two best-quality pictures, at 19:12 UTC
    state = options(Quality.BEST, language)
    # When they tap Start on a third
    outcome = decide(state, Tap("o", 0, "go"), replace(CTX, allowance=allowance(best_used=2)))
    # Then no job starts, and they are told the limit and that it resets at midnight UTC, in 4 h 48 min
    assert outcome.job is None and outcome.state.active_job is None
    assert outcome.refused == Refusal(RefusalReason.QUOTA, QuotaKind.BEST)
    assert outcome.reply is not None
    expected = text(
        "quota_reached",
        language,
        kind=text("quota_kind_best", language),
        limit=2,
        reset="00:00 UTC",
        hours=4,
        minutes=48,
    )
    assert outcome.reply.text.startswith(f"{expected}\n{text('quota_quick_left', language)}\n\n")
    assert "00:00 UTC" in outcome.reply.text and ("4 h 48 min" in expected or "4 ч 48 мин" in expected)
    # And the options stay, set to what still works today (quick), so that Start works at once
    assert outcome.state.step == Step.NST_OPTIONS and outcome.state.flow.quality == Quality.QUICK
    assert outcome.reply.keyboard is not None and outcome.reply.edit
    labels = [b.label for row in outcome.reply.keyboard for b in row]
    assert text("opt_quality", language, quality=text("quality_quick", language)) in labels
    assert text("btn_start", language) in labels
    # And that Start starts a quick job
    again = decide(outcome.state, Tap("o", outcome.state.generation, "go"), replace(CTX, allowance=allowance(2)))
    assert again.job is not None and again.job.quality == Quality.QUICK


@pytest.mark.parametrize("kind", [QuotaKind.QUICK, QuotaKind.PRESET])
def test_a_refused_start_with_nothing_left_to_start_shows_no_dead_start_button(kind: QuotaKind) -> None:
    # Given a user who made today's quick (or preset) pictures, on that kind's options
    state = options(Quality.QUICK)
    if kind == QuotaKind.PRESET:
        state = replace(state, step=Step.PRESET_OPTIONS, flow=replace(state.flow, style_file_id=None, preset="monet"))
    used = Allowance(used={kind: LIMITS[kind]}, limits=LIMITS, resets_at=next_reset(NOW))
    # When they tap Start
    outcome = decide(state, Tap("o", 0, "go"), replace(CTX, allowance=used))
    # Then they are told the limit and when it resets, and no button is left that would be refused again
    assert outcome.job is None and outcome.reply is not None and outcome.reply.edit
    assert outcome.reply.text.startswith(
        text(
            "quota_reached",
            "en",
            kind=text(f"quota_kind_{kind}", "en"),
            limit=LIMITS[kind],
            reset="00:00 UTC",
            hours=4,
            minutes=48,
        )
    )
    assert outcome.reply.keyboard is None


def test_a_start_whose_quota_a_concurrent_start_took_comes_back_to_its_options_with_the_quota_answer() -> None:
    # Given a user whose Start was decided on one best job left, but a concurrent Start took it before the hand-over
    ctx = replace(CTX, allowance=allowance(best_used=1))
    started = decide(options(Quality.BEST), Tap("o", 0, "go"), ctx)
    assert started.job is not None
    # When the hand-over reports the quota taken
    back = decide(started.state, NotQueued(started.job, QuotaKind.BEST), ctx)
    # Then the user is back on the options, free, told the quota's answer (not "try Start again")
    assert back.state.step == Step.NST_OPTIONS and back.state.active_job is None and back.state.valid()
    assert back.reply is not None and back.reply.keyboard is not None and back.reply.edit
    expected = text(
        "quota_reached", "en", kind=text("quota_kind_best", "en"), limit=2, reset="00:00 UTC", hours=4, minutes=48
    )
    assert back.reply.text.startswith(f"{expected}\n{text('quota_quick_left', 'en')}")
    # And the options are the job's, set to quick quality, so that Start or Cancel is one tap away
    assert back.state.flow.quality == Quality.QUICK and back.state.flow.content_file_id == "PHOTO"


def test_the_reset_is_named_in_the_users_time_zone_when_one_is_known() -> None:
    outcome = decide(
        options(Quality.BEST), Tap("o", 0, "go"), replace(CTX, allowance=allowance(2, zone="Europe/Moscow"))
    )
    assert outcome.reply is not None and "03:00 Europe/Moscow" in outcome.reply.text
    assert clock_time(next_reset(NOW), None) == "00:00 UTC"


def test_an_administrator_is_exempt_from_the_quotas() -> None:
    limits = Limits(per_day=LIMITS, admins=frozenset({7}))
    assert limits.limit(7, QuotaKind.BEST) is None
    assert limits.limit(8, QuotaKind.BEST) == 2
    exempt = Allowance(used={QuotaKind.BEST: 99}, limits={k: limits.limit(7, k) for k in QuotaKind})
    outcome = decide(options(Quality.BEST), Tap("o", 0, "go"), replace(CTX, allowance=exempt))
    assert outcome.job is not None and outcome.refused is None


def test_other_kinds_still_start_when_one_quota_is_used_up() -> None:
    outcome = decide(options(Quality.QUICK), Tap("o", 0, "go"), replace(CTX, allowance=allowance(best_used=2)))
    assert outcome.job is not None and outcome.job.enqueued_at == NOW


def test_the_budget_levels() -> None:
    assert budget_level(5759, 7200) == BudgetLevel.OPEN
    assert budget_level(5760, 7200) == BudgetLevel.BEST_PAUSED  # 80 %
    assert budget_level(7200, 7200) == BudgetLevel.QUICK_ONLY
    assert budget_level(10**9, 0) == BudgetLevel.OPEN  # no budget configured


@pytest.mark.parametrize("language", list(Language))
def test_past_80_percent_best_quality_shows_as_paused_with_a_one_line_reason(language: Language) -> None:
    # Given the budget past 80 %
    ctx = replace(CTX, allowance=allowance(budget=BudgetLevel.BEST_PAUSED))
    # When a user changes an option (the options are shown again)
    outcome = decide(options(language=language), Tap("o", 0, "size:1024"), ctx)
    # Then best quality's button says it is paused, and one line says why
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    labels = [b.label for row in outcome.reply.keyboard for b in row]
    assert text("opt_quality_paused", language) in labels
    reason = text("budget_best_paused", language, reset="00:00 UTC")
    assert outcome.reply.text.endswith(reason) and "\n" not in reason
    # And a tap on it changes nothing but tells why
    tap = decide(outcome.state, Tap("o", outcome.state.generation, "q:best"), ctx)
    assert tap.toast == reason and tap.state.flow.quality == Quality.QUICK and not tap.write


def test_a_best_job_chosen_before_the_pause_is_refused_and_switched_to_quick() -> None:
    ctx = replace(CTX, allowance=allowance(budget=BudgetLevel.BEST_PAUSED))
    outcome = decide(options(Quality.BEST), Tap("o", 0, "go"), ctx)
    assert outcome.job is None and outcome.refused == Refusal(RefusalReason.BUDGET, QuotaKind.BEST)
    assert outcome.state.flow.quality == Quality.QUICK
    assert outcome.reply is not None and text("budget_best_paused", "en", reset="00:00 UTC") in outcome.reply.text
    # And quick starts
    assert decide(outcome.state, Tap("o", outcome.state.generation, "go"), ctx).job is not None


def test_at_100_percent_only_quick_jobs_run() -> None:
    ctx = replace(CTX, allowance=allowance(budget=BudgetLevel.QUICK_ONLY))
    preset = UserState(user_id=7, step=Step.PRESET_OPTIONS, flow=Flow(content_file_id="PHOTO", preset=PRESETS[0].id))
    refused = decide(preset, Tap("o", 0, "go"), ctx)
    assert refused.job is None and refused.refused == Refusal(RefusalReason.BUDGET, QuotaKind.PRESET)
    assert refused.reply is not None and refused.reply.text.endswith(text("budget_quick_only", "en", reset="00:00 UTC"))
    assert decide(options(Quality.BEST), Tap("o", 0, "go"), ctx).job is None
    assert decide(options(Quality.QUICK), Tap("o", 0, "go"), ctx).job is not None


def test_positions_read_naturally_in_both_languages() -> None:
    assert [pictures(n, "en") for n in (1, 2)] == ["1 picture", "2 pictures"]
    assert [pictures(n, "ru") for n in (1, 2, 5, 11, 21, 22)] == [
        "1 картинка",
        "2 картинки",
        "5 картинок",
        "11 картинок",
        "21 картинка",
        "22 картинки",
    ]
