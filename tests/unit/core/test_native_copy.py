"""Issue 13's "native copy": buttons that agree with their screen, a picture refused when it arrives, and the
words a user reads. Each was seen failing on the tree before it."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest

from handler.core.decide import decide
from handler.core.inputs import Catalogue, Command, Picture, PresetInfo, Rejected, Situation, Tap
from handler.core.job import SIZES, Language, Quality, Strength
from handler.core.state import Flow, Step, UserState
from handler.core.texts import TEXTS, text

MONET = PresetInfo("monet", {"en": "Monet", "ru": "Моне"})
VANGOGH = PresetInfo("vangogh", {"en": "Van Gogh", "ru": "Ван Гог"})
CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(presets=(MONET, VANGOGH)), new_job_id="k" * 16)


def labels(keyboard: object) -> list[str]:
    return [b.label for row in keyboard for b in row]  # type: ignore[attr-defined]


def mentions(label: str, value: str) -> bool:
    """Whether a button's label names `value` as a word of its own (not "256" inside "1256")."""
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", label) is not None


def assert_agrees(screen: str, keyboard: object, current: str, others: list[str]) -> None:
    """One button names the setting's current value, which the screen shows too; no button names another."""
    assert current in screen, (current, screen)
    found = [label for label in labels(keyboard) if mentions(label, current)]
    assert len(found) == 1, (current, labels(keyboard))
    for other in others:
        contradicting = [label for label in labels(keyboard) if mentions(label, other)]
        assert not contradicting, f"{contradicting} under a screen that says {current!r}:\n{screen}"


# --- 1. a button shows the current value, never another -------------------------------------------------------


@pytest.mark.parametrize(("language", "size", "as_file"), list(itertools.product(list(Language), SIZES, (False, True))))
def test_the_settings_buttons_show_the_values_the_settings_screen_shows(
    language: Language, size: int, as_file: bool
) -> None:
    # Given a user with these settings
    state = UserState(user_id=1, language=language, size=size, as_file=as_file)
    # When they open /settings
    reply = decide(state, Command("settings"), CTX).reply
    assert reply is not None and reply.keyboard is not None
    # Then every button shows the value on the screen: the language, the size, photo or file
    names = [text("language_name", lang) for lang in Language]
    current_name = text("language_name", language)
    assert_agrees(reply.text, reply.keyboard, current_name, [n for n in names if n != current_name])
    assert_agrees(reply.text, reply.keyboard, f"{size}", [f"{s}" for s in SIZES if s != size])
    outputs = [text("output_photo", language), text("output_file", language)]
    current = outputs[as_file]
    assert_agrees(reply.text, reply.keyboard, current, [o for o in outputs if o != current])


def test_a_settings_button_moves_its_value_on_and_the_screen_follows() -> None:
    state = UserState(user_id=1, language=Language.EN, size=512, as_file=False)
    screen = decide(state, Command("settings"), CTX)
    state = screen.state
    seen = []
    for _ in SIZES:
        (size_button,) = [b for row in screen.reply.keyboard for b in row if b.label.startswith("📐")]  # type: ignore[union-attr]
        prefix, _, arg = size_button.action.partition(":")
        screen = decide(state, Tap(prefix, state.generation, arg), CTX)
        state = screen.state
        seen.append(state.size)
    assert sorted(seen) == sorted(SIZES)
    (output_button,) = [b for row in screen.reply.keyboard for b in row if b.label.startswith("📨")]  # type: ignore[union-attr]
    prefix, _, arg = output_button.action.partition(":")
    as_file = decide(state, Tap(prefix, state.generation, arg), CTX)
    assert as_file.state.as_file and text("output_file", "en") in as_file.reply.text  # type: ignore[union-attr]


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    ("strength", "keep", "quality"), list(itertools.product(list(Strength), (False, True), list(Quality)))
)
def test_the_options_buttons_show_the_values_the_options_screen_shows(
    language: Language, strength: Strength, keep: bool, quality: Quality
) -> None:
    flow = Flow(content_file_id="P", style_file_id="S", strength=strength, keep_colors=keep, quality=quality, size=256)
    state = UserState(user_id=1, step=Step.NST_STYLE, flow=replace(flow, style_file_id=None), language=language)
    reply = decide(state, Picture("S", 9), CTX).reply
    assert reply is not None and reply.keyboard is not None
    strengths = [text(f"strength_{s}", language) for s in Strength]
    current = text(f"strength_{strength}", language)
    assert_agrees(reply.text, reply.keyboard, current, [s for s in strengths if s != current])
    qualities = [text(f"quality_{q}", language) for q in Quality]
    current = text(f"quality_{quality}", language)
    assert_agrees(reply.text, reply.keyboard, current, [q for q in qualities if q != current])
    assert_agrees(reply.text, reply.keyboard, "256", [f"{s}" for s in SIZES if s != 256])
    # And the colours' checkbox is ticked exactly when the screen says the photo's colours are kept
    assert text("yes" if keep else "no", language) in reply.text
    assert text("opt_colors_on" if keep else "opt_colors_off", language) in labels(reply.keyboard)


@pytest.mark.parametrize("language", list(Language))
def test_the_options_screen_says_strength_in_other_words_than_style(language: Language) -> None:
    # "Style «Monet». • style: full" read as two different things called "style"
    state = UserState(user_id=1, step=Step.PRESET_PICK, language=language)
    reply = decide(state, Tap("p", 0, "monet"), CTX)
    photo = decide(reply.state, Picture("P", 3), CTX).reply
    assert photo is not None and photo.keyboard is not None
    strength_label = next(label for label in labels(photo.keyboard) if label.startswith("💪"))
    word = "style" if language == Language.EN else "стиль"
    assert word not in strength_label.lower()
    assert word not in photo.text.lower().split("\n", 1)[1]


# --- 3. a picture too small is refused when it arrives ---------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("step", [Step.NST_CONTENT, Step.NST_STYLE, Step.PRESET_PHOTO])
def test_a_picture_too_small_is_refused_on_arrival_with_why_and_the_flow_stays(language: Language, step: Step) -> None:
    state = UserState(user_id=1, step=step, flow=Flow(content_file_id="P" if step == Step.NST_STYLE else None))
    state = state.with_(language=language)
    values = {"width": 8, "height": 8, "min_side": 16}
    outcome = decide(state, Rejected("too_small", values), CTX)
    assert outcome.reply is not None
    reason = text("reason_too_small", language, **values)
    assert outcome.reply.text == text("bad_picture", language, reason=reason)
    assert "8×8" in outcome.reply.text
    # And nothing is lost: the same step, the same flow
    assert outcome.state.step == step and outcome.state.flow == state.flow


# --- 5. the words ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
def test_the_greeting_names_the_presets_that_can_run_and_only_them(language: Language) -> None:
    greeting = decide(UserState(user_id=1, language=language), Command("start"), CTX).reply
    assert greeting is not None
    assert MONET.name(language) in greeting.text and VANGOGH.name(language) in greeting.text
    bare = decide(UserState(user_id=1, language=language), Command("start"), replace(CTX, catalogue=Catalogue()))
    assert bare.reply is not None and MONET.name(language) not in bare.reply.text
    assert text("start_presets", language, presets="").strip(" .\n") not in bare.reply.text


def test_an_album_of_two_first_is_not_greeted_as_one_nice_photo() -> None:
    state = UserState(user_id=1)
    first = decide(state, Picture("A", 10, album_id="g"), CTX)
    second = decide(first.state, Picture("B", 11, album_id="g"), CTX)
    assert second.album_due is not None
    woken = decide(second.state, second.album_due, CTX)
    assert woken.reply is not None and woken.reply.text == text("album_choice", "en")
    single = decide(state, Picture("A", 10), CTX)
    assert single.reply is not None and single.reply.text == text("photo_first", "en")


DEVELOPER_WORDS = {"en": re.compile(r"\bjobs?\b", re.IGNORECASE), "ru": re.compile(r"задач", re.IGNORECASE)}
# The operator's own texts (/stats) may speak of jobs; the users' never do.
OPERATOR_KEYS = re.compile(r"^stats_")


@pytest.mark.parametrize("language", list(Language))
def test_no_user_text_speaks_of_jobs_or_tasks(language: Language) -> None:
    found = [
        key
        for key, value in TEXTS[language].items()
        if not OPERATOR_KEYS.match(key) and DEVELOPER_WORDS[language].search(value)
    ]
    assert not found


@pytest.mark.parametrize("language", list(Language))
def test_the_menu_is_pointed_to_one_way(language: Language) -> None:
    pointer = "/start shows the menu." if language == Language.EN else "/start — меню."
    found = [v for v in TEXTS[language].values() if "/start" in v and not v.startswith("/start") and pointer not in v]
    others = [v for v in found if "/start —" not in v]  # the help's list of commands
    assert not others


def test_russian_texts_have_no_english_words_but_format_names() -> None:
    allowed = {"JPEG", "PNG", "WebP", "GIF", "UTC", "Telegram", "p50", "p95"}
    found = {
        key: words
        for key, value in TEXTS["ru"].items()
        if (words := set(re.findall(r"(?<![/{\w])[A-Za-z][A-Za-z0-9]+", value)) - allowed)
        and not OPERATOR_KEYS.match(key)
    }
    assert not found
