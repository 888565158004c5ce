"""Property: whatever several users do, in any order and at any pace, the pure core keeps its promises.

A hypothesis state machine drives `decide` for three users, as the webhook's dialogue does (decide, store the
state, carry out the outcome), with their workers finishing jobs and time passing in between. After every step:
every stored state is valid; every message is answered unless the user is flooding; a tap on a keyboard that is
no longer current never moves the conversation; a job starts only for a user without a running one, and carries
what they chose; every button of every keyboard shown fits Telegram's 64 bytes and parses back to itself.
The end-to-end version with PTB, the Lambda emulator and DynamoDB is tests/integration/test_conversation_properties.py.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from handler.core.callbacks import callback_data, parse_callback
from handler.core.decide import decide
from handler.core.flood import BUCKET_SIZE
from handler.core.inputs import (
    AlbumDue,
    Catalogue,
    Command,
    ForgedTap,
    Input,
    Outcome,
    PaintingInfo,
    PresetInfo,
    Rejected,
    Situation,
    Tap,
    Text,
)
from handler.core.inputs import Picture as Pic
from handler.core.job import FINISHED, Job, JobStatus, Kind, Quality
from handler.core.keyboards import Keyboard
from handler.core.state import Step, UserState

USERS = (1001, 1002, 1003)
PRESETS = (PresetInfo("monet", {"en": "Monet", "ru": "Моне"}), PresetInfo("paprika", {"en": "Paprika"}))
PAINTINGS = (
    PaintingInfo("udnie", {"en": "Udnie", "ru": "Удни"}, {}, {"en": "Francis Picabia"}, {"en": "1913"}),
    PaintingInfo("the_shipwreck_of_the_minotaur", {"en": "The Shipwreck of the Minotaur"}, {}, {}, {}),
)
COMMANDS = ("start", "help", "cancel", "settings", "styles", "forget", "nonsense")
REJECTS = ("sticker", "voice", "video", "not_image", "corrupt")
_job_ids = (f"job{n:013d}" for n in itertools.count(1))


@dataclass
class Chat:
    """One user's side: their stored state, the keyboard last shown to them, their jobs' statuses."""

    state: UserState
    keyboard: Keyboard = ()
    keyboard_generation: int = 0
    jobs: dict[str, JobStatus] = field(default_factory=dict)
    last_message: int = 0
    wakeups: list[AlbumDue] = field(default_factory=list)  # asked for by an album's second picture, not come yet


class Conversation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 2_000_000.0
        self.chats = {user: Chat(UserState(user_id=user)) for user in USERS}
        self.last: tuple[int, Input, UserState, Outcome] | None = None

    # --- how the dialogue carries out a decision ----------------------------------------------------------------

    def deliver(self, user: int, event: Input) -> Outcome:
        chat = self.chats[user]
        before = chat.state
        status = chat.jobs.get(before.active_job) if before.active_job else None
        situation = Situation(
            now=self.now,
            chat_id=user,
            first_name="Ada",
            telegram_language="ru" if user == USERS[1] else "en",
            catalogue=Catalogue(presets=PRESETS, paintings=PAINTINGS),
            new_job_id=next(_job_ids),
            job_status=status,
            tapped_message_id=chat.last_message if isinstance(event, Tap | ForgedTap) else None,
        )
        outcome = decide(before, event, situation)
        if outcome.forget:
            chat.state, chat.jobs, chat.keyboard = UserState(user_id=user), {}, ()
        elif outcome.write:
            chat.state = replace(outcome.state, version=before.version + 1)
        if outcome.cancel_job is not None and chat.jobs.get(outcome.cancel_job) in (
            JobStatus.QUEUED,
            JobStatus.RUNNING,
        ):
            chat.jobs[outcome.cancel_job] = JobStatus.CANCELLED
        if outcome.job is not None:
            chat.jobs[outcome.job.job_id] = JobStatus.QUEUED
        if outcome.album_due is not None:
            chat.wakeups.append(outcome.album_due)
        if outcome.reply is not None and outcome.reply.keyboard is not None:
            chat.keyboard, chat.keyboard_generation = outcome.reply.keyboard, chat.state.generation
            chat.last_message += 1
        elif outcome.remove_tapped_keyboard:
            chat.keyboard = ()
        self.last = (user, event, before, outcome)
        return outcome

    # --- what people do -------------------------------------------------------------------------------------------

    @rule(user=st.sampled_from(USERS), name=st.sampled_from(COMMANDS))
    def command(self, user: int, name: str) -> None:
        self.deliver(user, Command(name))

    @rule(user=st.sampled_from(USERS), words=st.text(max_size=20))
    def text(self, user: int, words: str) -> None:
        self.deliver(user, Text(words))

    @rule(user=st.sampled_from(USERS), album=st.sampled_from([None, "album-1", "album-2"]), n=st.integers(1, 10**6))
    def picture(self, user: int, album: str | None, n: int) -> None:
        self.deliver(user, Pic(f"FILE{n}", n, album))

    @precondition(lambda self: any(chat.wakeups for chat in self.chats.values()))
    @rule(data=st.data())
    def an_albums_wakeup_comes(self, data: st.DataObject) -> None:
        """The wait after an album's second picture ends, whatever happened meanwhile (a wakeup may come late)."""
        user = data.draw(st.sampled_from([u for u, c in self.chats.items() if c.wakeups]))
        chat = self.chats[user]
        due = chat.wakeups.pop(data.draw(st.integers(0, len(chat.wakeups) - 1)))
        before = chat.state
        outcome = self.deliver(user, due)
        # It shows the album's keyboard only if the album is still at two pictures and nothing moved on since
        flow = before.flow
        still_two = flow.album_id == due.album_id and len(flow.album) == 2 and before.generation == due.generation
        assert (outcome.reply is not None) == still_two
        assert outcome.reply is None or outcome.reply.keyboard
        assert outcome.write == still_two

    @rule(user=st.sampled_from(USERS), reason=st.sampled_from(REJECTS))
    def something_else(self, user: int, reason: str) -> None:
        self.deliver(user, Rejected(reason, {"limit": 50, "megapixels": 99}))

    @precondition(lambda self: any(chat.keyboard for chat in self.chats.values()))
    @rule(data=st.data())
    def tap_a_button_shown(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from([u for u, c in self.chats.items() if c.keyboard]))
        chat = self.chats[user]
        buttons = [b for row in chat.keyboard for b in row]
        button = data.draw(st.sampled_from(buttons))
        self.deliver(user, parse_callback(callback_data(button.action, chat.keyboard_generation)))

    @rule(
        user=st.sampled_from(USERS),
        prefix=st.sampled_from("mposjra"),
        arg=st.sampled_from(["nst", "go", "x", "?", "art", "udnie"]),
    )
    def tap_an_old_keyboard(self, user: int, prefix: str, arg: str) -> None:
        generation = self.chats[user].state.generation
        if generation > 0:
            self.deliver(user, Tap(prefix, generation - 1, arg))

    @rule(user=st.sampled_from(USERS), data=st.one_of(st.none(), st.text(max_size=70)))
    def forged_tap(self, user: int, data: str | None) -> None:
        self.deliver(user, parse_callback(data))

    @rule(user=st.sampled_from(USERS), outcome=st.sampled_from([JobStatus.DONE, JobStatus.FAILED]))
    def worker_finishes(self, user: int, outcome: JobStatus) -> None:
        chat = self.chats[user]
        for job_id, status in chat.jobs.items():
            if status in (JobStatus.QUEUED, JobStatus.RUNNING):
                chat.jobs[job_id] = outcome
                if chat.state.active_job == job_id:  # the worker frees the user
                    chat.state = chat.state.with_(
                        active_job=None, job_started_at=None, generation=chat.state.generation + 1
                    )
        self.last = None

    @rule(seconds=st.sampled_from([0.01, 0.5, 3.0, 30.0, 3600.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self.last = None

    # --- what must hold after every step --------------------------------------------------------------------------

    @invariant()
    def every_state_is_valid(self) -> None:
        for chat in self.chats.values():
            assert chat.state.valid(), chat.state

    @invariant()
    def every_message_is_answered_unless_the_user_floods(self) -> None:
        if self.last is None:
            return
        _, event, before, outcome = self.last
        if isinstance(event, AlbumDue):  # the bot's own note: checked where it comes
            return
        if isinstance(event, Tap | ForgedTap):
            # a tap is always answered: its toast, or its message edited, or a new one
            assert outcome.toast is not None or outcome.reply is not None
        elif outcome.reply is None:
            # quiet only while flooding, or for a later picture of an album already answered (one per album)
            album_answered = (
                isinstance(event, Pic) and event.album_id is not None and event.album_id == before.flow.album_id
            )
            assert album_answered or (not outcome.write and before.tokens < BUCKET_SIZE)

    @invariant()
    def an_albums_pictures_never_show_a_keyboard(self) -> None:
        # One answer per album, and no keyboard from its pictures: a third may always follow; the wakeup shows it
        if self.last is None:
            return
        _, event, _, outcome = self.last
        if isinstance(event, Pic) and outcome.reply is not None and outcome.reply.album is not None:
            assert outcome.reply.keyboard is None

    @invariant()
    def an_outdated_tap_never_moves_the_conversation(self) -> None:
        if self.last is None:
            return
        _, event, before, outcome = self.last
        if isinstance(event, ForgedTap) or (isinstance(event, Tap) and event.generation != before.generation):
            after = outcome.state
            assert (after.step, after.flow, after.active_job, after.generation) == (
                before.step,
                before.flow,
                before.active_job if after.active_job else None,  # a lost job may expire, nothing else
                before.generation,
            )
            assert outcome.job is None and outcome.cancel_job is None
            assert outcome.toast is not None

    @invariant()
    def a_job_starts_only_for_a_free_user_with_what_they_chose(self) -> None:
        if self.last is None or self.last[3].job is None:
            return
        user, _, before, outcome = self.last
        job: Job = outcome.job  # type: ignore[assignment]
        if job.preview:  # a preview strip: a small quick job of the options shown; the user stays where they were
            assert before.step == outcome.state.step == Step.NST_OPTIONS and job.quality == Quality.QUICK
            assert outcome.state.active_job in (before.active_job, None)  # a lost job may expire meanwhile
            assert job.content_file_id == before.flow.content_file_id
            return
        running = before.active_job is not None and self.chats[user].jobs.get(before.active_job) not in FINISHED
        assert not (running and before.job_is_running(self.now))
        assert job.user_id == user == job.chat_id and outcome.state.active_job == job.job_id
        assert outcome.state.step == Step.IDLE
        assert job.kind == (Kind.NST if before.step == Step.NST_OPTIONS else Kind.PRESET)
        assert job.strength == before.flow.strength and job.content_file_id == before.flow.content_file_id
        assert job.size == (before.flow.size or before.size)
        if job.kind == Kind.NST:  # one style: the picture the user sent, or the painting they chose
            assert (job.style_file_id, job.painting) == (before.flow.style_file_id, before.flow.painting)
            assert (job.style_file_id is None) != (job.painting is None)
            mix = (job.mix_style_file_id, job.mix_painting, job.mix_ratio)
            assert mix == (before.flow.mix_style_file_id, before.flow.mix_painting, before.flow.mix_ratio)

    @invariant()
    def every_button_fits_telegrams_callback_data_and_parses_back(self) -> None:
        for chat in self.chats.values():
            for row in chat.keyboard:
                for button in row:
                    data = callback_data(button.action, chat.keyboard_generation)
                    assert len(data.encode()) <= 64
                    prefix, _, arg = button.action.partition(":")
                    assert parse_callback(data) == Tap(prefix, chat.keyboard_generation, arg)


Conversation.TestCase.settings = settings(
    max_examples=300, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_conversation_of_several_users = Conversation.TestCase
