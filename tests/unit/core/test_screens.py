"""The conversation's screen in the pure core: a screen sent as a new message takes the older screen's buttons off
(their values would be stale), while the buttons bound to a job (a result's, a preview strip's, a progress
message's Cancel) stay."""

from __future__ import annotations

from dataclasses import replace

from handler.core.decide import decide
from handler.core.inputs import AlbumAnswered, Catalogue, Command, Input, Outcome, Picture, ScreenSent, Situation, Tap
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.keyboards import is_screen, progress_keyboard, result_keyboard, strip_keyboard
from handler.core.state import Flow, Step, UserState

CTX = Situation(now=1_000_000.0, chat_id=1, catalogue=Catalogue(), new_job_id="job0000000000001")


def job(job_id: str, *, preview: bool = False) -> Job:
    return Job(
        job_id=job_id, user_id=1, chat_id=1, kind=Kind.NST, content_file_id="PHOTO", style_file_id="STYLE",
        preview=preview, quality=Quality.QUICK, size=512, strength=Strength.HIGH, keep_colors=False, as_file=False,
        language=Language.EN, content_message_id=100,
    )  # fmt: skip


class Chat:
    """Carries out outcomes as the bot does, as far as screens go: numbers the messages it sends, notes a screen
    sent as a new message (`ScreenSent`), and keeps the ids of the messages whose buttons were taken off."""

    def __init__(self, state: UserState) -> None:
        self.state = state
        self.last_id = 10
        self.retired: list[int] = []

    def do(self, event: Input, tapped: int | None = None, tapped_job: Job | None = None) -> Outcome:
        outcome = decide(self.state, event, replace(CTX, tapped_message_id=tapped, tapped_job=tapped_job))
        self.state = outcome.state if outcome.write else self.state
        reply = outcome.reply
        if reply is not None and not (reply.edit and tapped is not None):
            self.last_id += 1
            if is_screen(reply.keyboard):
                noted = decide(self.state, ScreenSent(self.last_id, self.state.generation), CTX)
                self.state = noted.state if noted.write else self.state
        if outcome.retire_keyboard is not None:
            self.retired.append(outcome.retire_keyboard)
        return outcome

    def send_options(self) -> int:
        """Own style up to the options, sent as a new message: its id."""
        self.do(Command("start"))
        self.do(Tap("m", self.state.generation, "nst"), tapped=self.last_id)
        self.do(Picture("PHOTO", 100))
        self.do(Picture("STYLE", 101))
        assert self.state.step == Step.NST_OPTIONS
        return self.last_id


def test_a_strength_under_the_preview_strip_takes_the_older_options_buttons_off() -> None:
    # Given the options screen, sent as a new message (§7: #3), its preview asked for there
    chat = Chat(UserState(user_id=1))
    options = chat.send_options()
    assert chat.state.screen_message_id == options
    preview = chat.do(Tap("o", chat.state.generation, "prev"), tapped=options)
    assert preview.job is not None and preview.reply is not None and preview.reply.edit
    assert chat.state.screen_message_id == options and preview.retire_keyboard is None  # edited in place
    # When the user taps a strength under the preview strip (a message of its own)
    strip = 50
    low = f"{strip_keyboard('en', preview.job.job_id)[0][0].action.split(':', 1)[1]}"
    again = chat.do(Tap("r", chat.state.generation, low), tapped=strip, tapped_job=preview.job)
    # Then the new options screen is a new message, and the older one's buttons (strength high) go
    assert again.reply is not None and not again.reply.edit and chat.state.flow.strength == Strength.LOW
    assert again.retire_keyboard == options and chat.retired == [options]
    # And the new message is the screen now; the strip's own buttons were never touched
    assert chat.state.screen_message_id == chat.last_id != options and strip not in chat.retired
    assert chat.state.valid()


def test_another_style_then_other_options_under_a_result_leave_one_live_screen() -> None:
    # Given a job started from the options (its message becomes the progress, Cancel under it) and its result
    chat = Chat(UserState(user_id=1))
    options = chat.send_options()
    started = chat.do(Tap("o", chat.state.generation, "go"), tapped=options)
    assert started.job is not None and started.reply is not None and started.reply.edit
    assert started.reply.keyboard == progress_keyboard("en")
    assert chat.state.screen_message_id is None  # the progress message is no screen: its Cancel stays
    result, done = 60, job(started.job.job_id)
    chat.state = chat.state.with_(active_job=None, job_started_at=None)  # the worker frees the user
    # When the user taps 🔁 Another style under the result (§2: #5, the style choice)
    style = chat.do(Tap("r", 0, f"style:{done.job_id}"), tapped=result, tapped_job=done)
    # Then the style choice comes as a new message, and nothing had buttons to lose (not the progress message)
    assert style.reply is not None and not style.reply.edit and style.reply.keyboard
    assert style.retire_keyboard is None and chat.retired == []
    style_message = chat.last_id
    assert chat.state.screen_message_id == style_message
    # When they then tap 🎚 Change options under the same result (§2: #6)
    opts = chat.do(Tap("r", 0, f"opts:{done.job_id}"), tapped=result, tapped_job=done)
    # Then the options come as a new message and the style choice's buttons go; the result keeps its own
    assert opts.reply is not None and not opts.reply.edit and chat.state.step == Step.NST_OPTIONS
    assert chat.retired == [style_message] and not opts.remove_tapped_keyboard
    assert chat.state.screen_message_id == chat.last_id
    assert options not in chat.retired and result not in chat.retired


def test_job_bound_buttons_are_no_screen() -> None:
    # Given the buttons bound to a job: under a result, under a preview strip, Cancel under its progress
    bound = [result_keyboard("en", "j1"), strip_keyboard("en", "j1"), progress_keyboard("en")]
    # Then none is a screen (none is ever taken off for a newer one); the conversation's keyboards are
    assert not any(is_screen(keyboard) for keyboard in bound)
    menu = decide(UserState(user_id=1), Command("start"), CTX).reply
    assert menu is not None and is_screen(menu.keyboard) and not is_screen(None)


def test_a_screen_edited_in_place_stays_the_screen_and_loses_nothing() -> None:
    # Given the options screen
    chat = Chat(UserState(user_id=1))
    options = chat.send_options()
    # When the user changes options there (edits of that message) and asks for the settings by command
    chat.do(Tap("o", chat.state.generation, "size:1024"), tapped=options)
    chat.do(Tap("o", chat.state.generation, "str:low"), tapped=options)
    assert chat.state.screen_message_id == options and chat.retired == []
    settings = chat.do(Command("settings"))
    # Then only the newer screen, a new message, takes the options' buttons off
    assert settings.retire_keyboard == options and chat.state.screen_message_id == chat.last_id
    # And a reply without buttons (/cancel) takes nothing off: its older screen is told "outdated" when tapped
    assert chat.do(Command("cancel")).retire_keyboard is None


def test_a_screen_noted_after_the_conversation_moved_on_is_not_taken_for_the_screen() -> None:
    # Given a screen sent as a new message, and the conversation moved on before its id was noted
    sent = decide(UserState(user_id=1), Command("start"), CTX).state
    moved = decide(sent, Command("settings"), CTX).state
    # When the first screen's id is noted
    late = decide(moved, ScreenSent(77, sent.generation), CTX)
    # Then nothing is written: the newer keyboard's own note counts
    assert not late.write and late.state.screen_message_id is None
    # And a note in time is written without making any keyboard stale
    noted = decide(moved, ScreenSent(78, moved.generation), CTX)
    assert noted.write and noted.state.screen_message_id == 78 and noted.state.generation == moved.generation


def test_the_screen_is_stored_with_the_state_and_older_bodies_load_without_one() -> None:
    # Given a state with a screen, and a body stored before screens were remembered
    state = UserState(user_id=1, version=3, screen_message_id=42, flow=Flow(content_file_id="PHOTO"))
    old_body = '{"generation":4,"step":"idle"}'
    # Then the screen survives a round trip, and the older body has none
    assert UserState.from_body(1, 3, state.to_body()) == state
    assert UserState.from_body(1, 3, old_body).screen_message_id is None


def test_an_albums_message_is_the_screen_once_noted_and_retires_the_older_one() -> None:
    # Given a user asked for the style picture (a screen with buttons, #20), who sends an album of two instead
    state = UserState(
        user_id=1, step=Step.NST_STYLE, flow=Flow(content_file_id="PHOTO", content_message_id=100), generation=3
    ).with_(screen_message_id=20)
    first = decide(state, Picture("A", 40, album_id="g"), CTX)
    # Then the album's first message (no buttons yet) takes the older screen's buttons off
    assert first.reply is not None and first.reply.album is not None and first.retire_keyboard == 20
    assert first.state.screen_message_id is None
    # And once its message (#21) is noted, it is the screen: what the album becomes is shown there
    noted = decide(first.state, AlbumAnswered("g", 21, first.state.generation), CTX)
    assert noted.state.screen_message_id == 21 and noted.state.flow.album_answer == 21
    pair = decide(noted.state, Picture("B", 41, album_id="g"), CTX)
    assert pair.album_due is not None and pair.retire_keyboard is None
    options = decide(pair.state, pair.album_due, CTX)
    assert options.state.step == Step.NST_OPTIONS and options.state.screen_message_id == 21
    # When a newer screen comes as a new message, the album's message loses its buttons
    assert decide(options.state, Command("settings"), CTX).retire_keyboard == 21
    # And an album message noted after a newer screen went out is not taken for the screen
    newer = first.state.with_(screen_message_id=30)
    assert decide(newer, AlbumAnswered("g", 21, first.state.generation), CTX).state.screen_message_id == 30
