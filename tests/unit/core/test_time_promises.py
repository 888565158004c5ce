"""What the bot says about how long a picture takes holds on every CPU path the worker may run on (ml.priors)."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from handler.core.texts import TEXTS
from ml import priors

# Words that promise a time, and the most seconds each allows.
SPEED_WORDS: dict[str, dict[str, float]] = {
    "en": {
        "instantly": 3,
        "in a second": 2,
        "in a few seconds": 10,
        "in seconds": 60,
        "about a minute": 90,
        "a minute or two": 120,
    },
    "ru": {
        "мгновенно": 3,
        "за секунду": 2,
        "через несколько секунд": 10,
        "за несколько секунд": 10,
        "за секунды": 60,
        "около минуты": 90,
        "минута-две": 120,
        "минуту-две": 120,
    },
}
# The texts that promise a time, and the kind of job they promise it for.
PROMISES = {"start_presets": "preset", "help_presets": "preset"}
# Texts with such words that promise nothing about a job ("try again in a few seconds").
NOT_PROMISES = {"flood"}
QUALITY_LABELS = ("quality_quick", "quality_best", "quality_quick_name", "quality_best_name", "opt_quality")
TIME_WORDS = re.compile(r"\d|second|minute|hour|instant|секунд|минут|час|мгновен", re.IGNORECASE)
# The largest picture a preset job works on: an image file up to 2048 px (photos are at most 1280 px), square.
LARGEST_SIZE = 2048
PATHS: tuple[priors.ComputePath, ...] = get_args(priors.ComputePath)
ARCHITECTURES = [key.removeprefix("preset:") for key in priors.SECONDS_AT_512 if key.startswith("preset:")]


def worst_case_seconds(kind: str) -> float:
    """The longest a `kind` job may take, from Start to the result, on any path: the largest picture, a cold
    worker."""
    if kind == "preset":
        return max(
            priors.expected_seconds("preset", LARGEST_SIZE, path=p, architecture=a, cold=True, aspect=1.0)
            for p in PATHS
            for a in ARCHITECTURES
        )
    raise AssertionError(f"no worst case for {kind}")


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_the_quality_labels_promise_no_time(language: str) -> None:
    # Best quality takes 55-143 s at 512 px depending on the CPU, and 4x that at 1024: no one label holds
    for key in QUALITY_LABELS:
        assert not TIME_WORDS.search(TEXTS[language][key]), (key, TEXTS[language][key])


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_every_time_a_text_promises_holds_on_every_path(language: str) -> None:
    promised = 0
    for key, value in TEXTS[language].items():
        for words, seconds in SPEED_WORDS[language].items():
            if words not in value or key in NOT_PROMISES:
                continue
            # Then the text is one whose promise is checked, and the worker keeps it on every path
            assert key in PROMISES, f"{language}/{key} promises {words!r}: add it to PROMISES with its kind"
            worst = worst_case_seconds(PROMISES[key])
            assert worst <= seconds, f"{language}/{key}: {words!r} means at most {seconds} s, a job takes {worst:.0f}"
            promised += 1
    assert promised >= len(PROMISES)
