"""The prior's correction learned from recent jobs: the median of the last few paces, odd ones left out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handler.core.pace import PACE_BOUNDS, RECENT_PACES, learned_pace, usable


def test_with_no_job_yet_the_prior_stands() -> None:
    assert learned_pace([]) == 1.0


def test_one_odd_job_does_not_move_the_estimate() -> None:
    # Given four jobs that took 60 % of the prior's time and one, starved for CPU, that took three times as long
    # Then the next job's prior is the usual 60 %
    assert learned_pace([0.6, 3.0, 0.6, 0.61, 0.59]) == 0.6


def test_only_the_recent_jobs_count() -> None:
    # Given the machine got faster (newest first): the last five paces are 0.5, the older ones 2.0
    assert learned_pace([0.5] * RECENT_PACES + [2.0] * 10) == 0.5


def test_a_pace_outside_the_bounds_is_not_learned() -> None:
    low, high = PACE_BOUNDS
    assert not usable(low / 2) and not usable(high * 2) and usable(1.0)
    assert learned_pace([high * 10, low / 10]) == 1.0


@given(st.lists(st.floats(min_value=0.0, max_value=1000.0), max_size=12))
def test_the_correction_stays_within_the_bounds(paces: list[float]) -> None:
    low, high = PACE_BOUNDS
    assert low <= learned_pace(paces) <= high
