"""An album gets one answer, and an album of three or more is refused before any keyboard appears: two pictures
are answered without a keyboard and a wakeup a moment later (`Outcome.album_due`) shows the options, if the
album is still at two pictures and nothing moved on (`handler.core.decide`, albums)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handler.core import inputs
from handler.core.decide import decide
from handler.core.inputs import AlbumReply, Catalogue, Command, Outcome, Picture, PresetInfo, Situation, Text
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text

PRESETS = (PresetInfo("monet", {"en": "Monet", "ru": "Моне"}),)
CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(presets=PRESETS), new_job_id="j" * 16)


def album_of_two(state: UserState, album: str = "g") -> tuple[Outcome, Outcome]:
    first = decide(state, Picture("A", 20, album_id=album), CTX)
    second = decide(first.state, Picture("B", 21, album_id=album), CTX)
    return first, second


def wake(outcome: Outcome, state: UserState | None = None, ctx: Situation = CTX) -> Outcome:
    """The wakeup `outcome` asked for, handled on `state` (by default the state the outcome left)."""
    due = outcome.album_due
    assert due is not None
    return decide(outcome.state if state is None else state, due, ctx)


STARTS = [
    pytest.param(UserState(user_id=1, step=Step.NST_CONTENT), Step.NST_OPTIONS, id="own style, photo awaited"),
    pytest.param(UserState(user_id=1), Step.PHOTO_CHOICE, id="nothing awaited"),
    pytest.param(
        UserState(user_id=1, step=Step.NST_STYLE, flow=Flow(content_file_id="P")), Step.NST_OPTIONS, id="style awaited"
    ),
    pytest.param(
        UserState(user_id=1, step=Step.PRESET_PHOTO, flow=Flow(preset="monet")), Step.PRESET_OPTIONS, id="preset"
    ),
    pytest.param(
        UserState(user_id=1, step=Step.PAINTING_PICK, flow=Flow(content_file_id="P")),
        Step.NST_OPTIONS,
        id="paintings' gallery showing",
    ),
]


@pytest.mark.parametrize(("start", "then"), STARTS)
def test_an_album_of_two_is_answered_without_a_keyboard_and_asks_to_be_woken(start: UserState, then: Step) -> None:
    # Given a user where an album may come
    # When an album of two pictures comes
    _, second = album_of_two(start)
    # Then its message is edited into "got both pictures", with no keyboard
    assert second.reply is not None and second.reply.album == AlbumReply.UPDATE
    assert second.reply.keyboard is None and second.reply.text == text("album_got", "en")
    # And the bot asks to be woken for this album at this state's generation, nothing decided yet
    assert second.album_due == inputs.AlbumDue("g", second.state.generation)
    assert second.state.step == start.step and len(second.state.flow.album) == 2


@pytest.mark.parametrize(("start", "then"), STARTS)
def test_the_wakeup_of_an_album_still_at_two_shows_the_keyboard(start: UserState, then: Step) -> None:
    # Given an album of two answered without a keyboard
    _, second = album_of_two(start)
    assert second.reply is not None and second.reply.keyboard is None
    # When its wakeup comes with nothing changed
    woken = wake(second)
    # Then the two pictures are taken and the album's message shows the keyboard of what comes next
    assert woken.state.step == then and woken.state.generation > second.state.generation
    assert woken.reply is not None and woken.reply.album == AlbumReply.UPDATE and woken.reply.keyboard
    assert woken.state.valid() and woken.album_due is None
    # And a second delivery of the same wakeup does nothing
    again = wake(second, woken.state)
    assert again.reply is None and not again.write


@pytest.mark.parametrize(("start", "then"), STARTS)
def test_a_third_picture_before_the_wakeup_is_refused_and_the_wakeup_does_nothing(start: UserState, then: Step) -> None:
    # Given an album of two answered without a keyboard
    _, second = album_of_two(start)
    assert second.reply is not None and second.reply.keyboard is None
    # When its third picture comes before the wakeup
    third = decide(second.state, Picture("C", 22, album_id="g"), CTX)
    # Then the album's message becomes the refusal, with no keyboard, and no new wakeup is asked for
    assert third.reply is not None and third.reply.album == AlbumReply.UPDATE and third.reply.keyboard is None
    assert third.reply.text == text("album_too_big", "en") and third.album_due is None
    # And the flow is back where it was before the album
    assert third.state.step == start.step and third.state.flow.content_file_id == start.flow.content_file_id
    assert third.state.flow.preset == start.flow.preset and third.state.valid()
    # When the wakeup comes after it
    woken = wake(second, third.state)
    # Then nothing is shown and nothing written
    assert woken.reply is None and not woken.write and woken.state == third.state
    # And a fourth picture is not answered either
    fourth = decide(third.state, Picture("D", 23, album_id="g"), CTX)
    assert fourth.reply is None


def test_a_wakeup_after_the_user_moved_on_does_nothing() -> None:
    # Given an album of two answered without a keyboard, while the photo was awaited
    _, second = album_of_two(UserState(user_id=1, step=Step.NST_CONTENT))
    assert second.reply is not None and second.reply.keyboard is None
    # When the user moves on before the wakeup (/settings, /cancel, /start)
    for command in ("settings", "cancel", "start"):
        moved = decide(second.state, Command(command), CTX)
        # Then the wakeup shows nothing and changes nothing
        woken = wake(second, moved.state)
        assert woken.reply is None and not woken.write, command
    # And a wakeup for another album, or an older generation of this one, does nothing either
    other = decide(second.state, inputs.AlbumDue("other", second.state.generation), CTX)
    older = decide(second.state, inputs.AlbumDue("g", second.state.generation - 1), CTX)
    assert other.reply is None and older.reply is None and not other.write and not older.write


def test_words_that_move_nothing_leave_the_wakeup_its_keyboard() -> None:
    # Given an album of two answered without a keyboard, with nothing awaited
    _, second = album_of_two(UserState(user_id=1))
    # When the user writes something before the wakeup (answered, the conversation stays where it is)
    said = decide(second.state, Text("hello"), CTX)
    # Then the wakeup still shows the choice for the two pictures
    woken = wake(second, said.state)
    assert woken.reply is not None and woken.reply.keyboard and woken.state.step == Step.PHOTO_CHOICE


def test_the_wakeup_takes_no_flood_token_and_speaks_the_users_language() -> None:
    # Given a Russian speaker's album of two, the flood bucket empty
    ctx = replace(CTX, telegram_language="ru")
    first = decide(UserState(user_id=1, step=Step.NST_CONTENT), Picture("A", 20, album_id="g"), ctx)
    second = decide(first.state, Picture("B", 21, album_id="g"), ctx)
    assert second.reply is not None and second.reply.text == text("album_got", "ru")
    empty = second.state.with_(tokens=0.0, tokens_at=ctx.now)
    # When the wakeup comes
    woken = wake(second, empty, ctx)
    # Then the options are shown all the same, in Russian
    assert woken.reply is not None and woken.reply.keyboard and woken.state.tokens == 0.0
    assert woken.reply.text.startswith("Настройте результат")


def test_an_album_sent_for_a_mixs_second_style_gives_the_mix_its_first_picture() -> None:
    # Given a user on the options of their photo and style who tapped "mix with another style"
    start = UserState(
        user_id=1, step=Step.NST_STYLE, flow=Flow(content_file_id="P", style_file_id="S1", picking_mix=True)
    )
    # When an album of two comes and its wakeup after it
    _, second = album_of_two(start)
    assert second.reply is not None and second.reply.keyboard is None
    woken = wake(second)
    # Then the album's first picture is the mix's second style, the first style is kept, and the album's message
    # asks how much of each (saying only the first picture was taken)
    flow = woken.state.flow
    assert woken.state.step == Step.MIX_RATIO and woken.state.valid()
    assert (flow.style_file_id, flow.mix_style_file_id, flow.picking_mix) == ("S1", "A", False)
    assert woken.reply is not None and woken.reply.keyboard and woken.reply.album == AlbumReply.UPDATE
    assert woken.reply.text.startswith(text("one_at_a_time", "en"))
    # And a third picture arriving late refuses the album and asks for the second style again, the rest kept
    third = decide(woken.state, Picture("C", 22, album_id="g"), CTX)
    flow = third.state.flow
    assert third.state.step == Step.NST_STYLE and third.state.valid()
    assert (flow.content_file_id, flow.style_file_id, flow.mix_style_file_id, flow.picking_mix) == (
        "P",
        "S1",
        None,
        True,
    )
    assert third.reply is not None and third.reply.text == text("album_too_big", "en") and not third.reply.keyboard
