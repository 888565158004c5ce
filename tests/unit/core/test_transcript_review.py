"""What a review of the transcripts (docs/conversation.*.md) found, read as a user would: /help offers only what
can run here, an album's acknowledgement holds whatever the album's size, "Another style" under a result does not
say a photo just came, and the Russian speaks of the user's style as theirs. Each was seen failing on the tree
before it."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from handler.core.decide import decide
from handler.core.inputs import Catalogue, Command, Picture, PresetInfo, Situation, Tap
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.keyboards import AGAIN_STYLE
from handler.core.state import Step, UserState
from handler.core.texts import TEXTS, text

MONET = PresetInfo("monet", {"en": "Monet", "ru": "Моне"})
FETCH = "python -m ml.weights fetch"
CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(presets=(MONET,)), new_job_id="k" * 16)
# No preset weights and no VGG19: only quick own-style pictures can be made.
BARE = Catalogue(presets=(), qualities=(Quality.QUICK,), missing_presets=(MONET,), fetch_command=FETCH)


# --- /help offers only what can run ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
def test_help_without_presets_offers_none_and_one_plain_line_says_what_adds_them(language: Language) -> None:
    # Given a deployment that can run presets, and one that can run none of them nor the best quality
    full = decide(UserState(user_id=1, language=language), Command("help"), CTX).reply
    bare = decide(UserState(user_id=1, language=language), Command("help"), replace(CTX, catalogue=BARE)).reply
    assert full is not None and bare is not None
    assert "/styles" in full.text and "`" not in full.text
    # Then the help of the bare one offers no preset: no gallery, no "presets in seconds", not "two ways"
    *body, line = bare.text.splitlines()
    assert not [b for b in body if "/styles" in b or re.search(r"\bseconds\b|секунд|\btwo\b|двумя", b)], body
    assert MONET.name(language) not in "\n".join(body)
    # And its last line says what is missing and the command that adds it, as plain text (no parse_mode is used,
    # so markdown's backticks would show as they are)
    assert MONET.name(language) in line and text("quality_best_name", language) in line
    assert FETCH in line and "`" not in line


# --- an album's acknowledgement holds whatever its size -------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
def test_the_acknowledgement_an_album_of_three_gets_before_its_refusal_does_not_count_two(language: Language) -> None:
    state = UserState(user_id=1, step=Step.NST_CONTENT, language=language)
    first = decide(state, Picture("A", 20, album_id="g"), CTX)
    second = decide(first.state, Picture("B", 21, album_id="g"), CTX)
    third = decide(second.state, Picture("C", 22, album_id="g"), CTX)
    assert third.reply is not None and third.reply.text == text("album_too_big", language)
    # Then what the user read before the refusal was true of an album of three too
    assert second.reply is not None
    assert not re.search(r"\b(both|two)\b|обе|дв[еу]", second.reply.text, re.IGNORECASE), second.reply.text


# --- "Another style" under a result ---------------------------------------------------------------------------


@pytest.mark.parametrize("recent", [(), ("S",)], ids=["no recent style", "a recent style"])
@pytest.mark.parametrize("language", list(Language))
def test_another_style_under_a_result_does_not_say_a_photo_just_came(language: Language, recent: tuple[str]) -> None:
    job = Job(
        job_id="again0000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="PHOTO", style_file_id="S",
        quality=Quality.QUICK, size=256, strength=Strength.MID, keep_colors=False, as_file=False, language=language,
    )  # fmt: skip
    state = UserState(user_id=1, generation=12, language=language, recent_styles=recent)
    # When the user taps "Another style" under that job's result (they sent nothing just now)
    other = decide(state, Tap("r", 3, f"{AGAIN_STYLE}:{job.job_id}"), replace(CTX, tapped_job=job))
    # Then the style is asked for, without "Got the photo"
    assert other.state.step == Step.NST_STYLE and other.reply is not None
    got_the_photo = text("ask_style", language).split(".")[0]
    assert got_the_photo not in other.reply.text, other.reply.text


# --- the Russian speaks of the user's style as theirs ---------------------------------------------------------


def test_the_russian_calls_the_users_style_theirs_and_thanks_no_one_for_waiting() -> None:
    # "свой стиль" in the bot's mouth is the bot's own style; «Свой стиль», the menu's item, may be named
    found = {key: value for key, value in TEXTS["ru"].items() if re.search(r"свой стиль|подождёте", value)}
    assert not found
