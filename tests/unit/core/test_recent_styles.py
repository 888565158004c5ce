"""Recent styles in the pure core: the last three style pictures a user started a job with (their file ids, never
the pictures) come back as one-tap choices next to "send a new style picture"; /forget takes them away."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handler.core.decide import decide
from handler.core.flood import BUCKET_SIZE
from handler.core.inputs import Catalogue, Command, Outcome, Picture, Situation, Tap
from handler.core.job import Language
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text

CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(), new_job_id="k" * 16, tapped_message_id=5)


def labels(outcome: Outcome) -> list[str]:
    if outcome.reply is None or outcome.reply.keyboard is None:
        return []
    return [b.label for row in outcome.reply.keyboard for b in row]


def job_with_style(state: UserState, style: str, n: int) -> UserState:
    """Own style from the menu to a finished job with the style picture `style`."""
    state = decide(state, Tap("m", state.generation, "nst"), CTX).state
    state = decide(state, Picture(f"PHOTO{n}", 10 * n), CTX).state
    state = decide(state, Picture(style, 10 * n + 1), CTX).state
    started = decide(state, Tap("o", state.generation, "go"), replace(CTX, new_job_id=f"job{n:013d}"))
    assert started.job is not None and started.job.style_file_id == style
    # The worker has finished it, and time enough has passed for the flood bucket to fill again.
    return started.state.with_(active_job=None, job_started_at=None, tokens=BUCKET_SIZE)


def ask_style(state: UserState) -> Outcome:
    state = decide(state, Tap("m", state.generation, "nst"), CTX).state
    return decide(state, Picture("PHOTO", 99), CTX)


@pytest.mark.parametrize("language", list(Language))
def test_after_two_jobs_with_different_style_pictures_both_are_offered_newest_first(language: Language) -> None:
    # Given a user who has made two pictures with two different style pictures
    state = UserState(user_id=1, language=language)
    assert labels(ask_style(state)) == []  # nothing yet
    state = job_with_style(job_with_style(state, "STYLE_A", 1), "STYLE_B", 2)
    # When they send a photo for a third
    asked = ask_style(state)
    # Then both come back as one-tap choices, the newest first, beside "send a new style picture"
    assert labels(asked) == [text("btn_recent_style", language, n=1), text("btn_recent_style", language, n=2)]
    assert asked.reply is not None and asked.reply.text == text("ask_style_recent", language)
    # When they tap the second (the older one)
    tapped = decide(asked.state, Tap("h", asked.state.generation, "1"), CTX)
    # Then it is the style picture, as if just sent: the options follow
    assert tapped.state.step == Step.NST_OPTIONS and tapped.state.flow.style_file_id == "STYLE_A"
    assert tapped.reply is not None and tapped.reply.edit


def test_three_at_most_each_once_and_only_the_users_own_pictures() -> None:
    state = UserState(user_id=1)
    for n, style in enumerate(("A", "B", "A", "C", "D"), start=1):
        state = job_with_style(state, style, n)
    assert state.recent_styles == ("D", "C", "A") and state.valid()
    assert labels(ask_style(state)) == [text("btn_recent_style", "en", n=n) for n in (1, 2, 3)]
    # A job with a famous painting adds nothing (it is no picture the user sent)
    painted = state.with_(step=Step.NST_OPTIONS, flow=Flow(content_file_id="P", painting="udnie"))
    started = decide(painted, Tap("o", painted.generation, "go"), CTX)
    assert started.job is not None and started.state.recent_styles == ("D", "C", "A")


def test_forget_takes_them_away_and_stale_or_forged_taps_do_nothing() -> None:
    state = job_with_style(UserState(user_id=1), "STYLE_A", 1)
    asked = ask_style(state)
    generation = asked.state.generation
    # A place that holds none, an old keyboard, or no number: outdated, nothing moves
    for tap in (Tap("h", generation, "1"), Tap("h", generation - 1, "0"), Tap("h", generation, "x")):
        outcome = decide(asked.state, tap, CTX)
        assert outcome.toast == text("outdated", "en") and outcome.state.step == Step.NST_STYLE
    # After /forget, none is offered, and an old button leads nowhere
    forgotten = decide(asked.state, Command("forget"), CTX)
    assert forgotten.forget and forgotten.state.recent_styles == ()
    assert labels(ask_style(forgotten.state)) == []
    assert decide(ask_style(forgotten.state).state, Tap("h", 0, "0"), CTX).toast == text("outdated", "en")


def test_they_are_stored_and_read_back() -> None:
    state = job_with_style(UserState(user_id=1), "STYLE_A", 1)
    again = UserState.from_body(1, 3, state.to_body())
    assert again.recent_styles == ("STYLE_A",)
    assert UserState.from_body(1, 3, '{"step": "idle"}').recent_styles == ()  # a state stored before them
