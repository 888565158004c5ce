"""The glue between Telegram and the core: load state, decide, save (retrying on conflict), then act."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace

from telegram import Message, Update
from telegram.ext import ContextTypes

from handler.bot import admission
from handler.bot.gallery import send_previews
from handler.bot.paintings import send_painting_previews
from handler.core.decide import album_screen, cancel_refused, decide
from handler.core.inputs import (
    AlbumAnswered,
    AlbumReply,
    Catalogue,
    Input,
    NotQueued,
    Outcome,
    Reply,
    ScreenSent,
    Situation,
    Tap,
)
from handler.core.job import CANCELLABLE, Job, JobStatus
from handler.core.keyboards import is_screen, progress_keyboard
from handler.core.limits import ALBUM_SETTLE_SECONDS
from handler.core.ports import JobDispatcher, JobQueue, Previews, StateStore, Telegram, Timer, Usage
from handler.core.queue import positions_to_show, waiting_text
from handler.core.quotas import Limits, QuotaKind, counted_quota, quota_kind
from handler.core.state import UserState
from handler.core.texts import language_of
from handler.core.wakeup import Wakeup
from handler.observability import logger

MAX_ATTEMPTS = 8
# How many newer states of an album one picture's handler shows before leaving the rest to the newer handlers.
ALBUM_CATCH_UP = 3


class ConcurrentUpdateConflict(RuntimeError):
    """The user's state kept changing under us; the update is retried by Telegram's redelivery."""


class Redeliveries:
    """The updates whose processing failed in a way their redelivery can get past: the error handler asks for
    one, the webhook's endpoint takes the request and answers Telegram non-2xx (long polling cannot redeliver)."""

    def __init__(self) -> None:
        self._wanted: set[int] = set()

    def ask(self, update_id: int) -> None:
        self._wanted.add(update_id)

    def take(self, update_id: int) -> bool:
        """Whether a redelivery of the update was asked for (forgotten once told)."""
        if update_id in self._wanted:
            self._wanted.discard(update_id)
            return True
        return False


@dataclass
class Deps:
    """What the handlers need from the outside world, made once per process."""

    store: StateStore
    dispatcher: JobDispatcher
    telegram: Telegram
    catalogue: Catalogue = field(default_factory=Catalogue)
    new_job_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex[:16])
    clock: Callable[[], float] = time.time
    redeliveries: Redeliveries = field(default_factory=Redeliveries)
    # The operator's caps (handler.bot.admission): counters, the queue, the limits and the worker cap.
    usage: Usage | None = None
    queue: JobQueue | None = None
    limits: Limits = field(default_factory=Limits)
    concurrency: int = 0
    price_per_gb_second: float = 0.0
    # What wakes the bot for an album a moment after its second picture (None: nothing does; it acts at once).
    timer: Timer | None = None
    # The galleries' preview pictures (None: the galleries show their buttons alone).
    previews: Previews | None = None


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    found: Deps = context.bot_data["deps"]
    return found


def transition(d: Deps, user_id: int, event: Input, base: Situation, loaded: UserState | None = None) -> Outcome:
    """Decide on the stored state (`loaded`, if the caller read it just now) and save the result; on a concurrent
    change, re-read and decide again."""
    for attempt in range(MAX_ATTEMPTS):
        state = loaded if attempt == 0 and loaded is not None else d.store.load(user_id)
        status = d.store.job_status(user_id, state.active_job) if state.active_job else None
        tapped_job = _tapped_job(d, user_id, event)
        outcome = decide(state, event, replace(base, now=d.clock(), job_status=status, tapped_job=tapped_job))
        if outcome.forget:
            d.store.forget(user_id)
            return outcome
        if not outcome.write or outcome.state == state:
            return outcome
        saved = d.store.save(outcome.state)
        if saved is not None:
            return replace(outcome, state=saved)
    raise ConcurrentUpdateConflict(f"state of user kept changing over {MAX_ATTEMPTS} attempts")


def _tapped_job(d: Deps, user_id: int, event: Input) -> Job | None:
    """The job a button under a result names (`r:<what>:<job id>`), while it is stored."""
    if not isinstance(event, Tap) or event.prefix != "r":
        return None
    _, _, job_id = event.arg.partition(":")
    return d.store.load_job(user_id, job_id) if job_id else None


def base_context(update: Update, d: Deps) -> Situation:
    user = update.effective_user
    chat = update.effective_chat
    query = update.callback_query
    return Situation(
        now=d.clock(),
        chat_id=chat.id if chat else (user.id if user else 0),
        first_name=user.first_name if user else "",
        telegram_language=user.language_code if user else None,
        catalogue=d.catalogue,
        new_job_id=d.new_job_id(),
        tapped_message_id=query.message.message_id if query and query.message else None,
    )


async def converse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, event: Input, loaded: UserState | None = None
) -> None:
    """Run one input through the core and carry out what it decided."""
    user = update.effective_user
    if user is None:
        return
    d = deps(context)
    base = base_context(update, d)
    base = replace(base, allowance=admission.read_allowance(d.usage, d.limits, user.id, event, base.now))
    outcome = transition(d, user.id, event, base, loaded)
    await carry_out(update, context, outcome, base)


async def carry_out(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, base: Situation) -> None:
    """Answer the tap first, then cancel, edit or send, and hand over a job."""
    d = deps(context)
    telegram = d.telegram
    query = update.callback_query
    if query is not None:
        await telegram.answer_tap(query.id, outcome.toast)
    if outcome.cancel_job is not None:
        user_id = outcome.state.user_id
        cancelled = d.store.set_job_status(user_id, outcome.cancel_job, JobStatus.CANCELLED, only_from=CANCELLABLE)
        if not cancelled:
            outcome = cancel_refused(outcome, d.store.job_status(user_id, outcome.cancel_job), base)
    tapped = query.message if query is not None else None
    if outcome.remove_tapped_keyboard and tapped is not None:
        await telegram.remove_keyboard(tapped.chat.id, tapped.message_id)
    if outcome.show_previews and d.previews is not None:
        await send_previews(telegram, d.previews, base.chat_id, d.catalogue.presets, _language(outcome, base))
    if outcome.show_paintings and d.previews is not None:
        await send_painting_previews(
            telegram, d.previews, base.chat_id, d.catalogue.paintings, _language(outcome, base)
        )
    reply = outcome.reply
    if reply is not None and reply.album is not None:
        await _answer_album(d, outcome, base)
        if outcome.album_due is not None:
            await _wake_later(d, outcome, base)
    elif reply is not None:
        generation = outcome.state.generation
        # A tapped photo (a best job's progress, showing its picture) takes the reply as its caption.
        edit = telegram.edit_caption if isinstance(tapped, Message) and tapped.photo else telegram.edit_text
        edited = (
            reply.edit
            and tapped is not None
            and await edit(tapped.chat.id, tapped.message_id, reply.text, reply.keyboard, generation)
        )
        if not edited:
            message_id = await telegram.send_text(base.chat_id, reply.text, reply.keyboard, generation)
            if is_screen(reply.keyboard):
                _note_screen(d, outcome.state, message_id, base)
    if outcome.retire_keyboard is not None:  # after the newer screen is out
        await telegram.remove_keyboard(base.chat_id, outcome.retire_keyboard)
    if outcome.refused is not None:
        admission.count_refusal(d.usage, outcome.refused, d.clock())
    if outcome.job is not None:
        await _hand_over(d, outcome, base)


def _note_screen(d: Deps, state: UserState, message_id: int, base: Situation) -> None:
    """Remember the screen just sent as a new message (`ScreenSent`), so that the next one takes its buttons off.
    Best effort: the reply is out, so a failure here must not have the update redelivered (and answered twice)."""
    try:
        transition(d, state.user_id, ScreenSent(message_id, state.generation), base)
    except Exception:
        logger.exception("the screen's message could not be noted")


async def _answer_album(d: Deps, outcome: Outcome, base: Situation) -> None:
    """The one message of an album (see `handler.core.decide`, albums): sent for its first picture and
    remembered, edited for the later ones."""
    reply, state = outcome.reply, outcome.state
    assert reply is not None and state.flow.album_id is not None
    if state.flow.album_answer is not None:
        await _show_album(d, base, state, state.flow.album_answer, reply)
    elif reply.album == AlbumReply.FIRST:
        message_id = await d.telegram.send_text(base.chat_id, reply.text, reply.keyboard, state.generation)
        noted = transition(d, state.user_id, AlbumAnswered(state.flow.album_id, message_id, state.generation), base)
        if noted.reply is not None:  # another picture of the album changed it meanwhile (another container)
            await _show_album(d, base, noted.state, message_id, noted.reply)
    # Else the album's first message is still on its way (another container): its sender catches up with this.


async def _wake_later(d: Deps, outcome: Outcome, base: Situation) -> None:
    """Have the album's wakeup come `ALBUM_SETTLE_SECONDS` from now; where it cannot be arranged, act on it now (the
    options at once, as before the wait existed)."""
    assert outcome.album_due is not None
    at = d.clock() + ALBUM_SETTLE_SECONDS
    wakeup = Wakeup(outcome.state.user_id, base.chat_id, base.telegram_language, outcome.album_due, at)
    if d.timer is not None:
        try:
            d.timer.schedule(wakeup)
            return
        except Exception:
            logger.exception("album wakeup could not be scheduled; acting on it now")
    await wake(d, wakeup)


async def wake(d: Deps, wakeup: Wakeup) -> None:
    """A wakeup has come (`Timer`): decide on it, and show the album's message as it decided (nothing if the
    album moved on). Where the message's id is not known yet, its sender catches up with the state written."""
    base = Situation(
        now=d.clock(), chat_id=wakeup.chat_id, telegram_language=wakeup.telegram_language, catalogue=d.catalogue
    )
    outcome = transition(d, wakeup.user_id, wakeup.due, base)
    message_id = outcome.state.flow.album_answer
    if outcome.reply is not None and message_id is not None:
        await _show_album(d, base, outcome.state, message_id, outcome.reply)


async def _show_album(d: Deps, base: Situation, state: UserState, message_id: int, reply: Reply) -> None:
    """Edit the album's message to `reply` (the screen of `state`); should the album move on under the edit (its
    next picture handled at the same moment elsewhere), show the newer state too, so that the last edit wins."""
    album_id = state.flow.album_id
    for _ in range(ALBUM_CATCH_UP):
        if not await d.telegram.edit_text(base.chat_id, message_id, reply.text, reply.keyboard, state.generation):
            return  # the message is gone
        now = d.store.load(state.user_id)
        screen = album_screen(now, replace(base, now=d.clock()))
        if now.flow.album_id != album_id or now.generation == state.generation or screen is None:
            return
        state, reply = now, screen


async def _hand_over(d: Deps, outcome: Outcome, base: Situation) -> None:
    """Store the job and dispatch it; if its quota was taken meanwhile or it cannot be dispatched, put the user
    back on its options screen (photo, style and options kept, Start under them) and say why."""
    assert outcome.job is not None
    job = outcome.job.model_copy(update={"worker_cap": d.concurrency})
    quota = counted_quota(job)
    taken = quota is None or admission.take_quota(d.usage, d.limits, job.user_id, quota, d.clock())
    d.store.put_job(job, JobStatus.QUEUED if taken else JobStatus.FAILED)
    try:
        if not taken:
            raise _QuotaTaken(quota_kind(job.kind, job.quality))
        d.dispatcher.dispatch(job)
    except Exception as error:
        logger.exception("job could not be dispatched", extra={"job_id": job.job_id})
        d.store.set_job_status(job.user_id, job.job_id, JobStatus.FAILED, only_from=(JobStatus.QUEUED,))
        refused = error.kind if isinstance(error, _QuotaTaken) else None
        back = transition(d, job.user_id, NotQueued(job, refused), base)
        reply = back.reply
        assert reply is not None
        generation = back.state.generation
        shown = job.progress_message_id is not None and await d.telegram.edit_text(
            job.chat_id, job.progress_message_id, reply.text, reply.keyboard, generation
        )
        if not shown:
            await d.telegram.send_text(job.chat_id, reply.text, reply.keyboard, generation)
        return
    logger.info("job dispatched", extra={"job_id": job.job_id, "kind": job.kind})
    ahead = admission.position(d.queue, d.concurrency, job, d.clock())
    if ahead is None or job.progress_message_id is None or d.queue is None:
        return
    # The workers that finish jobs meanwhile edit this message too: one writer at a time, counts only going down.
    with closing(positions_to_show(d.queue, job.user_id, job.job_id, ahead, d.clock)) as counts:
        for count in counts:
            keyboard = progress_keyboard(job.language)
            text = waiting_text(count, job.language)
            if not await d.telegram.edit_text(
                job.chat_id, job.progress_message_id, text, keyboard, outcome.state.generation
            ):
                break  # the message is gone


class _QuotaTaken(Exception):
    """A concurrent Start took the user's last job of the day between the decision's read and the hand-over."""

    def __init__(self, kind: QuotaKind) -> None:
        super().__init__(f"quota of {kind} used up")
        self.kind = kind


def _language(outcome: Outcome, base: Situation) -> str:
    return outcome.state.language or language_of(base.telegram_language)


def user_language(update: Update, state: UserState | None = None) -> str:
    if state is not None and state.language:
        return state.language
    user = update.effective_user
    return language_of(user.language_code if user else None)
