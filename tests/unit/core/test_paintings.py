"""The famous paintings in the pure core: where the gallery is offered, what choosing one does, and the job it
starts (a painting stands in for a style picture the user sent, with every option)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from handler.adapters.paintings import painting_catalog
from handler.adapters.presets import catalogue
from handler.core.callbacks import callback_data, parse_callback
from handler.core.decide import decide
from handler.core.inputs import Catalogue, Command, Outcome, Picture, PresetInfo, Situation, Tap, Text
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.keyboards import AGAIN_OPTIONS, AGAIN_STYLE
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text
from handler.jobs.runner import result_details
from ml import paintings

PAINTINGS = painting_catalog()
MONET = PresetInfo("monet", {"en": "Monet", "ru": "Моне"})
CTX = Situation(
    now=1_000_000.0,
    chat_id=1,
    catalogue=Catalogue(presets=(MONET,), paintings=PAINTINGS),
    new_job_id="k" * 16,
    tapped_message_id=55,
)


def labels(outcome: Outcome) -> list[str]:
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    return [b.label for row in outcome.reply.keyboard for b in row]


def actions(outcome: Outcome) -> list[str]:
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    return [b.action for row in outcome.reply.keyboard for b in row]


def tap(outcome: Outcome, label: str) -> Tap:
    """The tap on the button labelled `label` of the outcome's keyboard, as Telegram would deliver it."""
    assert outcome.reply is not None and outcome.reply.keyboard is not None
    (button,) = [b for row in outcome.reply.keyboard for b in row if b.label == label]
    parsed = parse_callback(callback_data(button.action, outcome.state.generation))
    assert isinstance(parsed, Tap)
    return parsed


def after_photo(language: Language = Language.EN) -> Outcome:
    """Own style: the photo is in, the bot asks for the style picture."""
    state = UserState(user_id=1, language=language, step=Step.NST_CONTENT, generation=4)
    return decide(state, Picture("PHOTO", 10), CTX)


def gallery(language: Language = Language.EN) -> Outcome:
    asked = after_photo(language)
    return decide(asked.state, tap(asked, text("btn_paintings", language)), CTX)


@pytest.mark.parametrize("language", list(Language))
def test_after_the_photo_the_famous_paintings_are_one_tap_away(language: Language) -> None:
    # Given own style, when the photo arrives
    asked = after_photo(language)
    # Then the bot asks for the style picture, with the famous paintings under the question
    assert asked.reply is not None and asked.reply.text == text("ask_style", language)
    assert labels(asked) == [text("btn_paintings", language)]
    # When the user taps it
    shown = decide(asked.state, tap(asked, text("btn_paintings", language)), CTX)
    # Then the previews go first, then a new message with one button a painting, titled in the user's language
    assert shown.show_paintings and not shown.show_previews and shown.remove_tapped_keyboard
    assert shown.reply is not None and not shown.reply.edit
    assert shown.reply.text == text("paintings_gallery", language)
    assert labels(shown) == [p.short_title(language) for p in PAINTINGS]
    assert actions(shown) == [f"a:{p.id}" for p in PAINTINGS]
    assert shown.state.step == Step.PAINTING_PICK and shown.state.flow.content_file_id == "PHOTO"
    # And every button's callback data is short, prefixed and fits Telegram's 64 bytes
    for action in actions(shown):
        data = callback_data(action, 999_999_999)
        assert len(data.encode()) <= 64 and parse_callback(data) == Tap("a", 999_999_999, action[2:])


@pytest.mark.parametrize("language", list(Language))
def test_a_painting_chosen_is_the_style_picture_and_the_options_name_it(language: Language) -> None:
    shown = gallery(language)
    starry = PAINTINGS[0]
    # When the user picks The Starry Night
    chosen = decide(shown.state, tap(shown, starry.short_title(language)), CTX)
    # Then the gallery's message becomes the options screen, naming the painting, its artist and year
    assert chosen.state.step == Step.NST_OPTIONS and chosen.state.valid()
    assert chosen.state.flow.painting == "starry_night" and chosen.state.flow.style_file_id is None
    assert chosen.reply is not None and chosen.reply.edit
    caption = starry.caption(language)
    assert chosen.reply.text.startswith(text("painting_chosen", language, painting=caption))
    assert {"en": "The Starry Night — Vincent van Gogh, 1889", "ru": "«Звёздная ночь» — Винсент Ван Гог, 1889"}[
        language
    ] == caption
    assert text("btn_start", language) in labels(chosen)


def test_every_option_works_with_a_painting_as_with_a_picture_sent() -> None:
    # Given the options screen of a painting
    shown = gallery()
    state = decide(shown.state, tap(shown, "Udnie"), CTX).state
    # When the user changes size, strength, colours and quality, then taps Start
    for arg in ("size:1024", "str:low", "col:1", "q:best"):
        outcome = decide(state, Tap("o", state.generation, arg), CTX)
        assert outcome.reply is not None and outcome.reply.text.startswith("Painting: Udnie — Francis Picabia, 1913")
        state = outcome.state
    started = decide(state, Tap("o", state.generation, "go"), CTX)
    # Then one own-style job starts with the painting as its style and every option carried
    job = started.job
    assert job is not None
    assert (job.kind, job.painting, job.style_file_id, job.content_file_id) == (Kind.NST, "udnie", None, "PHOTO")
    assert (job.size, job.strength, job.keep_colors, job.quality) == (1024, Strength.LOW, True, Quality.BEST)
    # And it says so when it is done: the painting's title in place of "your style"
    details = result_details(job, "", titles={"udnie": "Udnie"})
    assert details == "Udnie, best, 1024 px, strength low, original colours kept."


def test_from_the_photo_first_keyboard_too() -> None:
    # Given a photo sent when nothing was awaited
    first = decide(UserState(user_id=1), Picture("PHOTO", 10), CTX)
    assert labels(first) == [
        text("btn_use_own_style", "en"),
        text("btn_paintings", "en"),
        text("btn_apply_preset", "en"),
    ]
    # When the user taps the famous paintings, then one
    shown = decide(first.state, tap(first, text("btn_paintings", "en")), CTX)
    assert shown.show_paintings and shown.state.step == Step.PAINTING_PICK
    chosen = decide(shown.state, tap(shown, "The Great Wave"), CTX)
    # Then the photo sent first is restyled by it
    assert chosen.state.step == Step.NST_OPTIONS
    assert (chosen.state.flow.content_file_id, chosen.state.flow.painting) == ("PHOTO", "the_great_wave")


def test_a_picture_sent_at_the_gallery_is_the_style_and_text_asks_for_one() -> None:
    shown = gallery()
    assert decide(shown.state, Text("hello"), CTX).reply == decide(shown.state, Text("x"), CTX).reply
    assert decide(shown.state, Text("hello"), CTX).reply.text == text("expect_picture", "en")  # type: ignore[union-attr]
    own = decide(shown.state, Picture("STYLE", 11), CTX)
    assert own.state.step == Step.NST_OPTIONS
    assert (own.state.flow.style_file_id, own.state.flow.painting) == ("STYLE", None)


def test_unknown_or_stale_painting_taps_change_nothing() -> None:
    shown = gallery()
    generation = shown.state.generation
    for event in (Tap("a", generation, "mona_lisa"), Tap("a", generation - 1, "udnie")):
        outcome = decide(shown.state, event, CTX)
        assert outcome.toast == text("outdated", "en") and outcome.state.step == Step.PAINTING_PICK
    # And a painting's button means nothing outside the gallery
    options = UserState(user_id=1, step=Step.NST_OPTIONS, flow=Flow(content_file_id="P", style_file_id="S"))
    assert decide(options, Tap("a", 0, "udnie"), CTX).state.flow.painting is None


def test_without_paintings_nothing_offers_them() -> None:
    ctx = replace(CTX, catalogue=Catalogue(presets=(MONET,)))
    state = UserState(user_id=1, step=Step.NST_CONTENT)
    asked = decide(state, Picture("PHOTO", 10), ctx)
    assert asked.reply is not None and asked.reply.keyboard is None
    first = decide(UserState(user_id=1), Picture("PHOTO", 10), ctx)
    assert text("btn_paintings", "en") not in labels(first)
    assert decide(asked.state, Tap("m", asked.state.generation, "art"), ctx).toast == text("outdated", "en")


def test_the_buttons_under_a_painting_result_start_from_that_job() -> None:
    job = Job(
        job_id="paint0000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="PHOTO",
        painting="the_scream", quality=Quality.QUICK, size=256, strength=Strength.MID, keep_colors=True,
        as_file=False, language=Language.EN,
    )  # fmt: skip
    ctx = replace(CTX, tapped_job=job)
    state = UserState(user_id=1, generation=12)
    # Change options: the same painting, the same options
    again = decide(state, Tap("r", 3, f"{AGAIN_OPTIONS}:{job.job_id}"), ctx)
    assert again.state.step == Step.NST_OPTIONS and again.state.flow.painting == "the_scream"
    assert again.state.flow.strength == Strength.MID and again.state.valid()
    # Another style: the same photo, the style asked for again, paintings one tap away
    other = decide(state, Tap("r", 3, f"{AGAIN_STYLE}:{job.job_id}"), ctx)
    assert other.state.step == Step.NST_STYLE and other.state.flow.painting is None
    assert labels(other) == [text("btn_paintings", "en")]


def test_a_job_has_one_style_picture() -> None:
    values: dict[str, object] = dict(
        job_id="paint0000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="P", quality=Quality.QUICK,
        size=256, strength=Strength.MID, keep_colors=False, as_file=False, language=Language.EN,
    )  # fmt: skip
    assert Job.model_validate({**values, "painting": "udnie"}).painting == "udnie"
    for wrong in ({}, {"painting": "udnie", "style_file_id": "S"}, {"painting": "Udnie; DROP"}):
        with pytest.raises(ValueError):
            Job.model_validate({**values, **wrong})


def test_start_and_cancel_still_work_in_the_gallery() -> None:
    shown = gallery()
    assert decide(shown.state, Command("cancel"), CTX).state.step == Step.IDLE


def test_without_any_downloaded_weights_the_gallery_has_six_paintings_with_previews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh clone: no weights downloaded (quick quality runs on MicroAST's bundled ones)
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv("STYLEBOT_MANIFEST", raising=False)
    offered = catalogue()
    assert offered.presets == () and offered.qualities == (Quality.QUICK,)
    # Then the six paintings are offered all the same, each with its preview
    assert [p.id for p in offered.paintings] == [p.id for p in paintings.PAINTINGS] and len(offered.paintings) == 6
    assert all(paintings.get_painting(p.id).preview.is_file() for p in offered.paintings)
    first = decide(UserState(user_id=1), Picture("PHOTO", 10), replace(CTX, catalogue=offered))
    assert labels(first) == [text("btn_use_own_style", "en"), text("btn_paintings", "en")]
