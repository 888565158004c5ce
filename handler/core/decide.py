"""The conversation as a pure function: (state, input, situation) -> outcome. No I/O, no telegram, no boto3.

The bot turns a Telegram update into an `Input`, loads the state, calls `decide`, saves the new state with a
conditional write (re-reading and deciding again on conflict), and only then carries out the outcome.
"""

from __future__ import annotations

from dataclasses import replace

from handler.core import keyboards
from handler.core.flood import take_token, warn_again
from handler.core.inputs import (
    AlbumAnswered,
    AlbumDue,
    AlbumReply,
    Command,
    ForgedTap,
    Input,
    NotQueued,
    Outcome,
    Picture,
    PresetInfo,
    Rejected,
    Reply,
    ScreenSent,
    Situation,
    Tap,
    Text,
    Unfollowed,
)
from handler.core.job import FINISHED, SIZES, Job, JobStatus, Kind, Language, MixRatio, Quality, Strength
from handler.core.quotas import BudgetLevel, QuotaKind, RefusalReason, clock_time, quota_kind, quota_text
from handler.core.state import AWAITING_IMAGE, RECENT_STYLES, Flow, Step, UserState
from handler.core.texts import TEXTS, help_text, language_of, text


def wants_picture(state: UserState) -> bool:
    """Whether a picture is awaited now: only then is an image document worth downloading and checking."""
    return state.step in AWAITING_IMAGE


def cancel_refused(outcome: Outcome, status: JobStatus | None, ctx: Situation) -> Outcome:
    """The outcome of a cancel that the job's status refused: if the worker got there first (the result is on
    its way), say so instead of "cancelled"."""
    if status not in (JobStatus.SENDING, JobStatus.DONE) or outcome.reply is None:
        return outcome
    return replace(outcome, reply=replace(outcome.reply, text=_t(outcome.state, ctx, "job_too_late")))


UNFOLLOWED_TEXTS = {Unfollowed.GROUP: "group_chat", Unfollowed.EDITED: "edited"}


def unfollowed(event: Unfollowed, language: str) -> Reply:
    """The answer to a message outside the conversation: one note, in the user's language; nothing is read or
    stored, and the conversation (if any) stays as it was."""
    return Reply(text(UNFOLLOWED_TEXTS[event], language))


def decide(state: UserState, event: Input, ctx: Situation) -> Outcome:
    """What to do with one input from the user in `state`."""
    if isinstance(event, AlbumAnswered):  # the bot's own notes, not the user's: no flood token taken
        return _album_answered(state, event, ctx)
    if isinstance(event, AlbumDue):
        return _album_due(state, event, ctx)
    if isinstance(event, ScreenSent):
        return _screen_sent(state, event)
    return _screens(_decide(state, event, ctx), ctx)


def _decide(state: UserState, event: Input, ctx: Situation) -> Outcome:
    state, allowed = take_token(state, ctx.now)
    if not allowed:
        if isinstance(event, Tap | ForgedTap):
            return Outcome(state, toast=_t(state, ctx, "flood"), write=False)
        if not warn_again(state, ctx.now):
            return Outcome(state, write=False)
        return Outcome(state.with_(flood_warned_at=ctx.now), Reply(_t(state, ctx, "flood")))
    state = _expire_lost_job(state, ctx)
    match event:
        case Command():
            return _command(state, event.name, ctx)
        case Text():
            return _text(state, ctx)
        case Picture():
            return _image(state, event, ctx)
        case Rejected():
            return _rejected(state, event, ctx)
        case NotQueued():
            return _not_queued(state, event, ctx)
        case Tap(prefix="r"):  # under a result: bound to its job, not to the newest keyboard
            return _tap_again(state, event.arg, ctx)
        case Tap(prefix="o", arg="go") if state.active_job is not None and event.generation != state.generation:
            # A second tap on the same Start (its screen is already the job's progress): the job runs, and the
            # progress message keeps its Cancel button. A Start on a newer options screen is answered with the
            # running job's status and a Cancel that works (`_start_job`).
            return Outcome(state, toast=_t(state, ctx, "already_started"), write=False)
        case Tap() if event.generation == state.generation:
            return _tap(state, event, ctx)
        case _:
            return Outcome(state, toast=_t(state, ctx, "outdated"), remove_tapped_keyboard=True)


# --- screens ----------------------------------------------------------------------------------------------------
#
# The conversation's keyboard (menu, options, galleries, settings...) lives on one message at a time, its screen.
# A tap mostly edits the screen in place; where the next screen comes as a new message instead (under a result,
# under a preview strip, after a picture), the older one would keep buttons that show stale values and answer
# "outdated". So the state remembers the screen's message (`UserState.screen_message_id`), and an outcome whose
# reply is a new screen takes the older one's buttons off (`Outcome.retire_keyboard`). The new message's id is
# known only once it is sent: the bot notes it with a second conditional write (`ScreenSent`), as for an album's
# message. Buttons bound to a job (a result's, a preview strip's, a progress message's Cancel) are no screen and
# stay.


def _screens(outcome: Outcome, ctx: Situation) -> Outcome:
    """The screen after `outcome`: a new screen replaces the older one (whose buttons go); an edit of the tapped
    message keeps it the screen; a screen that loses its buttons is a screen no more."""
    reply, state = outcome.reply, outcome.state
    if outcome.forget or not outcome.write or (reply is not None and reply.album == AlbumReply.UPDATE):
        return outcome
    screen, tapped = state.screen_message_id, ctx.tapped_message_id
    if reply is not None and reply.album == AlbumReply.FIRST:
        # The album's one message, once sent, is the screen (`_album_answered`): it shows what the album becomes.
        return replace(outcome, state=state.with_(screen_message_id=None), retire_keyboard=screen)
    if outcome.remove_tapped_keyboard and screen == tapped:
        screen = None  # its buttons go with the tap
    retire = None
    if reply is not None and keyboards.is_screen(reply.keyboard):
        shown_on = tapped if reply.edit else None  # None: a new message, noted once it is sent (`ScreenSent`)
        retire = screen if screen != shown_on else None
        screen = shown_on
    elif reply is not None and reply.edit and screen == tapped:
        screen = None  # the screen's message now shows something else: no buttons, or a job's Cancel
    if screen == state.screen_message_id:
        return replace(outcome, retire_keyboard=retire) if retire is not None else outcome
    return replace(outcome, state=state.with_(screen_message_id=screen), retire_keyboard=retire)


def _screen_sent(state: UserState, event: ScreenSent) -> Outcome:
    """A screen went out as a new message: it is the screen now, unless the conversation moved on meanwhile (a
    newer keyboard, whose own screen counts; the message keeps its buttons, which answer "outdated")."""
    if state.screen_message_id == event.message_id or state.generation != event.generation:
        return Outcome(state, write=False)
    return Outcome(state.with_(screen_message_id=event.message_id))


def _expire_lost_job(state: UserState, ctx: Situation) -> UserState:
    if state.active_job is not None and (not state.job_is_running(ctx.now) or ctx.job_status in FINISHED):
        return state.with_(active_job=None, job_started_at=None)
    return state


def _lang(state: UserState, ctx: Situation) -> Language:
    return state.language or language_of(ctx.telegram_language)


def _t(state: UserState, ctx: Situation, key: str, **values: object) -> str:
    return text(key, _lang(state, ctx), **values)


def _moved(state: UserState, **changes: object) -> UserState:
    """A transition: every keyboard sent before it becomes stale."""
    return replace(state, generation=state.generation + 1, **changes)  # type: ignore[arg-type]


def _command(state: UserState, name: str, ctx: Situation) -> Outcome:
    if name == "start":
        new = _moved(state, step=Step.IDLE, flow=Flow())
        menu = keyboards.menu(_lang(new, ctx), presets=bool(ctx.catalogue.presets))
        return Outcome(new, Reply(_t(new, ctx, "start", name=ctx.first_name, presets=_presets_line(new, ctx)), menu))
    if name == "help":
        return Outcome(state, _help_reply(state, ctx))
    if name == "cancel":
        if state.active_job is not None:
            new = _moved(state, step=Step.IDLE, flow=Flow(), active_job=None, job_started_at=None)
            return Outcome(new, Reply(_t(new, ctx, "job_cancelled")), cancel_job=state.active_job)
        if state.step != Step.IDLE:
            new = _moved(state, step=Step.IDLE, flow=Flow())
            return Outcome(new, Reply(_t(new, ctx, "cancelled")))
        return Outcome(state, Reply(_t(state, ctx, "nothing_to_cancel")))
    if name == "settings":
        new = _moved(state)
        return Outcome(new, _settings_reply(new, ctx, edit=False))
    if name == "styles":
        return _to_gallery(state, ctx, Flow())
    if name == "forget":
        fresh = UserState(user_id=state.user_id)
        return Outcome(fresh, Reply(_t(state, ctx, "forgotten")), cancel_job=state.active_job, forget=True)
    return Outcome(state, Reply(_t(state, ctx, "unknown_command")))


def _presets_line(state: UserState, ctx: Situation) -> str:
    """The greeting's line of presets: the ones that can run here, by name (nothing where none can)."""
    lang = _lang(state, ctx)
    names = ", ".join(p.name(lang) for p in ctx.catalogue.presets)
    return _t(state, ctx, "start_presets", presets=names) if names else ""


def _rejected(state: UserState, event: Rejected, ctx: Situation) -> Outcome:
    """A picture refused on arrival: why, in the user's language; the flow stays where it was."""
    lang = _lang(state, ctx)
    if f"bad_{event.reason}" in TEXTS[lang]:
        return Outcome(state, Reply(_t(state, ctx, f"bad_{event.reason}", **event.values)))
    reason = _t(state, ctx, f"reason_{event.reason}", **event.values)
    return Outcome(state, Reply(_t(state, ctx, "bad_picture", reason=reason)))


def _text(state: UserState, ctx: Situation) -> Outcome:
    if state.step in AWAITING_IMAGE:
        return Outcome(state, Reply(_t(state, ctx, "expect_picture")))
    if state.step != Step.IDLE:
        return Outcome(state, Reply(_t(state, ctx, "use_buttons")))
    return Outcome(state, Reply(_t(state, ctx, "idle_text")))


def _image(state: UserState, image: Picture, ctx: Situation) -> Outcome:
    flow = state.flow
    if image.album_id is not None and image.album_id == flow.album_id:
        return _album_item(state, image, ctx)
    if image.album_id is not None and state.step in ALBUM_STEPS:
        return _album_start(state, image, ctx)
    if state.step == Step.NST_CONTENT:
        photo = replace(flow, content_file_id=image.file_id, content_message_id=image.message_id)
        new = _moved(state, step=Step.NST_STYLE, flow=photo)
        return Outcome(new, _ask_style_reply(new, ctx, edit=False))
    if state.step in (Step.NST_STYLE, Step.PAINTING_PICK):  # a picture of one's own instead of a painting too
        return _style_chosen(state, ctx, image.file_id, None)
    if state.step == Step.PRESET_PHOTO:
        photo = replace(flow, content_file_id=image.file_id, content_message_id=image.message_id)
        new = _moved(state, step=Step.PRESET_OPTIONS, flow=photo)
        return Outcome(new, _options_reply(new, ctx, edit=False))
    if state.step in (Step.IDLE, Step.PHOTO_CHOICE):
        # A photo first is welcome: kept as the photo to restyle; the user says what to do with it.
        kept = Flow(content_file_id=image.file_id, content_message_id=image.message_id)
        new = _moved(state, step=Step.PHOTO_CHOICE, flow=kept)
        return Outcome(new, _photo_choice_reply(new, ctx))
    if image.album_id is not None:  # an album where no picture is awaited: one answer for all of it
        new = state.with_(flow=replace(flow, album_id=image.album_id, album={}, album_answer=None))
        return Outcome(new, Reply(_t(new, ctx, "not_expecting_picture")))
    return Outcome(state, Reply(_t(state, ctx, "not_expecting_picture")))


def _photo_choice_reply(state: UserState, ctx: Situation) -> Reply:
    catalogue = ctx.catalogue
    choice = keyboards.photo_first(
        _lang(state, ctx), presets=bool(catalogue.presets), paintings=bool(catalogue.paintings)
    )
    # An album of two brought the style picture too: the choice says so.
    return Reply(_t(state, ctx, "photo_first" if state.flow.style_file_id is None else "album_choice"), choice)


# --- albums -----------------------------------------------------------------------------------------------------
#
# An album comes as one update per picture, all with its media_group_id, and nothing says how many follow. No
# update can wait for the next ones: Telegram sends a chat's updates to the webhook one at a time (the Bot API
# server sends a chat's next update only once the previous one is answered, so a Lambda invocation that waited
# would wait for nothing), and long polling hands them to the handlers one after the other. So an album gets one
# message: its first picture sends it, without a keyboard ("got the first picture"), and each later picture
# edits it to what the album has become. Two pictures are not yet an answer: a third may be on its way, and an
# options keyboard shown for two would be dead a moment later. So the second picture edits the message to a
# text without a keyboard ("got both pictures, one moment") and asks to be woken `ALBUM_SETTLE_SECONDS` later
# (`Outcome.album_due`, through the `Timer` port). Telegram sends an album's pictures one right after the other,
# so a third comes well within that time: it edits the message to the refusal, and the wakeup finds the album
# moved on and does nothing. A wakeup that finds the album still at two pictures, and nothing moved on since
# (the same album, the same generation), takes them (`_album_pair`): the message shows the options, or the
# photo-first choice. Anything the user did meanwhile that moved the conversation on makes it a no-op too, and
# so does a second delivery of the same wakeup (Lambda's are at least once). A third picture later than the
# wakeup (a network that held it back) still refuses the album, and its message drops the keyboard.
#
# Where the wait happens: in local mode, an asyncio task on the bot's event loop. On Lambda, the webhook cannot
# wait (see above), so it invokes itself asynchronously (InvocationType Event) with the wakeup, a few hundred
# bytes of ids; that invocation, in another execution environment, sleeps out what is left of the time and
# decides. Not the worker: its concurrency is reserved for jobs, so a wakeup could queue for minutes behind
# running ones, and its gigabytes would be billed for a sleep. Should the invocation fail to be queued, the
# options are shown at once, as before.
#
# The message's id is kept in the state (`Flow.album_answer`, a conditional write like every other), so that a
# picture (or a wakeup) handled in another container at the same moment edits the same message, or, before the
# id is known, leaves it to the first picture's handler to catch up with the state it finds after sending
# (`AlbumAnswered`). Each writer re-reads after its edit and shows a newer state it finds, so the last edit wins.

# The pictures an album may bring in these steps; anywhere else it is answered "not now", once.
ALBUM_STEPS = (Step.NST_CONTENT, Step.NST_STYLE, Step.PAINTING_PICK, Step.PRESET_PHOTO, Step.IDLE, Step.PHOTO_CHOICE)
# The steps an album's pictures are collected in, until its wakeup takes two of them (an album that starts in
# PHOTO_CHOICE is collected in IDLE).
_COLLECTING = (Step.NST_CONTENT, Step.NST_STYLE, Step.PAINTING_PICK, Step.PRESET_PHOTO, Step.IDLE)
# In `Flow.album` instead of the pictures: the album had more than two and was refused.
_OVERFLOW = "overflow"


def _album_start(state: UserState, image: Picture, ctx: Situation) -> Outcome:
    """The first picture of an album: kept, and answered without a keyboard until the album's size is known."""
    first = {str(image.message_id): image.file_id}
    if state.step in (Step.IDLE, Step.PHOTO_CHOICE):  # a new album replaces a photo kept before
        new = _moved(state, step=Step.IDLE, flow=Flow(album_id=image.album_id, album=first))
    else:
        new = _moved(state, flow=replace(state.flow, album_id=image.album_id, album=first, album_answer=None))
    return Outcome(new, _album_reply(new, ctx, AlbumReply.FIRST))


def _album_item(state: UserState, image: Picture, ctx: Situation) -> Outcome:
    """A later picture of the album being collected: the album's message shows what the album has become."""
    album = dict(state.flow.album)
    if not album or _OVERFLOW in album or str(image.message_id) in album:
        return Outcome(state, write=False)  # the album was answered for good (refused, or not awaited)
    album[str(image.message_id)] = image.file_id
    if len(album) == 2:
        if state.step not in _COLLECTING:  # the user moved on between the album's pictures
            return Outcome(state, write=False)
        # Two pictures: no keyboard yet, a third may follow; the wakeup decides.
        new = _moved(state, flow=replace(state.flow, album=album))
        assert new.flow.album_id is not None
        due = AlbumDue(new.flow.album_id, new.generation)
        return Outcome(new, _album_reply(new, ctx, AlbumReply.UPDATE), album_due=due)
    # A third picture: the album is refused and the flow goes back to where it was before it.
    step, flow = _before_album(state)
    refused = replace(flow, album_id=state.flow.album_id, album={_OVERFLOW: "1"}, album_answer=state.flow.album_answer)
    new = _moved(state, step=step, flow=refused)
    return Outcome(new, _album_reply(new, ctx, AlbumReply.UPDATE))


def _album_due(state: UserState, event: AlbumDue, ctx: Situation) -> Outcome:
    """The album's wait for a third picture is over: if it is still at two pictures and nothing moved on, they are
    taken and its message shows what comes next; otherwise nothing happens."""
    flow = state.flow
    pending = flow.album_id == event.album_id and len(flow.album) == 2 and _OVERFLOW not in flow.album
    if not pending or state.generation != event.generation or state.step not in _COLLECTING:
        return Outcome(state, write=False)
    return _album_pair(state, flow.album, ctx)


def _album_pair(state: UserState, album: dict[str, str], ctx: Situation) -> Outcome:
    """Two pictures: the first (by message id, whatever order they came in) is the photo, the second the style;
    where one picture was awaited, the first is taken."""
    (first_id, first), (_, second) = sorted(album.items(), key=lambda item: int(item[0]))
    flow = replace(state.flow, album=album)
    photo = replace(flow, content_file_id=first, content_message_id=int(first_id))
    if state.step == Step.NST_CONTENT:
        new = _moved(state, step=Step.NST_OPTIONS, flow=replace(photo, style_file_id=second))
    elif state.step == Step.IDLE:
        new = _moved(state, step=Step.PHOTO_CHOICE, flow=replace(photo, style_file_id=second))
    elif (
        state.step in (Step.NST_STYLE, Step.PAINTING_PICK) and flow.picking_mix
    ):  # the mix's second style: how much of each, next
        new = _style_chosen(state.with_(flow=flow), ctx, first, None).state
    elif state.step in (Step.NST_STYLE, Step.PAINTING_PICK):  # a picture of one's own instead of a painting too
        new = _style_chosen(state.with_(flow=flow), ctx, first, None).state
    else:  # PRESET_PHOTO
        new = _moved(state, step=Step.PRESET_OPTIONS, flow=photo)
    return Outcome(new, _album_reply(new, ctx, AlbumReply.UPDATE))


def _before_album(state: UserState) -> tuple[Step, Flow]:
    """The step and flow an album left behind, as they were before it."""
    flow = state.flow
    if state.step in _COLLECTING:  # still collecting: only the album's own fields changed
        return state.step, replace(flow, album_id=None, album={}, album_answer=None)
    if state.step == Step.PRESET_OPTIONS:
        return Step.PRESET_PHOTO, replace(flow, content_file_id=None, content_message_id=None)
    if state.step == Step.NST_OPTIONS and flow.content_file_id not in flow.album.values():
        return Step.NST_STYLE, replace(flow, style_file_id=None)
    if state.step == Step.MIX_RATIO:  # the album brought the mix's second style: it is asked for again
        return Step.NST_STYLE, replace(flow, mix_style_file_id=None, mix_painting=None, picking_mix=True)
    return (Step.IDLE if state.step in (Step.IDLE, Step.PHOTO_CHOICE) else Step.NST_CONTENT), Flow()


def _album_reply(state: UserState, ctx: Situation, how: AlbumReply) -> Reply:
    screen = album_screen(state, ctx)
    assert screen is not None
    return replace(screen, album=how)


def album_screen(state: UserState, ctx: Situation) -> Reply | None:
    """What the one message of the state's album shows now (None: the album has no message to keep up to date)."""
    album = state.flow.album
    if not album:
        return None
    if _OVERFLOW in album:
        return Reply(_t(state, ctx, "album_too_big"))
    if len(album) == 1 and state.step in ALBUM_STEPS:
        return Reply(_t(state, ctx, "album_first"))
    if state.step in _COLLECTING:  # two pictures, the wakeup not come yet
        return Reply(_t(state, ctx, "album_got"))
    if state.step == Step.PHOTO_CHOICE:
        return _photo_choice_reply(state, ctx)
    if state.step == Step.MIX_RATIO:
        ratio = _mix_ratio_reply(state, ctx, edit=False)
        return replace(ratio, text=f"{_t(state, ctx, 'one_at_a_time')}\n\n{ratio.text}")
    if state.step in (Step.NST_OPTIONS, Step.PRESET_OPTIONS):
        options = _options_reply(state, ctx, edit=False)
        if state.step == Step.NST_OPTIONS and state.flow.content_file_id in album.values():
            return options
        # Two pictures where one was awaited: the first was taken, and the message says so.
        return replace(options, text=f"{_t(state, ctx, 'one_at_a_time')}\n\n{options.text}")
    return None


def _album_answered(state: UserState, event: AlbumAnswered, ctx: Situation) -> Outcome:
    """The album's message is out: remember it; if the album moved on meanwhile, it shows the new state."""
    flow = state.flow
    if flow.album_id != event.album_id or flow.album_answer is not None:
        return Outcome(state, write=False)
    # The album's message is the screen, unless a newer screen went out meanwhile (its own note counts).
    shown = event.message_id if state.screen_message_id is None else state.screen_message_id
    new = state.with_(flow=replace(flow, album_answer=event.message_id), screen_message_id=shown)
    screen = album_screen(new, ctx) if new.generation != event.generation else None
    return Outcome(new, None if screen is None else replace(screen, album=AlbumReply.UPDATE))


# --- taps -----------------------------------------------------------------------------------------------------


def _tap(state: UserState, tap: Tap, ctx: Situation) -> Outcome:
    handler = _TAPS.get(tap.prefix)
    outcome = handler(state, tap.arg, ctx) if handler else None
    if outcome is None:  # a current keyboard, but the button makes no sense now
        return Outcome(state, toast=_t(state, ctx, "outdated"), remove_tapped_keyboard=True)
    return outcome


def _tap_menu(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    if arg == "nst":
        new = _moved(state, step=Step.NST_CONTENT, flow=Flow())
        return Outcome(new, Reply(_t(new, ctx, "ask_content"), edit=True))
    if arg == "pre":
        # The gallery comes as a new message under its previews; the menu's buttons go.
        return _to_gallery(state, ctx, Flow(), remove_tapped=True)
    if arg == "set":
        new = _moved(state)
        return Outcome(new, _settings_reply(new, ctx, edit=True))
    if arg == "help":  # a new message: the menu stays usable above it
        return Outcome(state, _help_reply(state, ctx))
    if arg == "own" and state.step == Step.PHOTO_CHOICE and state.flow.content_file_id is not None:
        return _own_style_for(state, ctx, edit=True)
    if arg == "pst" and state.step == Step.PHOTO_CHOICE and state.flow.content_file_id is not None:
        return _to_gallery(state, ctx, state.flow, remove_tapped=True)
    if arg == "art" and state.step in (Step.NST_STYLE, Step.PHOTO_CHOICE) and ctx.catalogue.paintings:
        return _to_paintings(state, ctx)
    if arg == "back" and state.flow.picking_mix and state.step in (Step.NST_STYLE, Step.PAINTING_PICK):
        new = _moved(state, step=Step.NST_OPTIONS, flow=replace(state.flow, picking_mix=False))
        return Outcome(new, _options_reply(new, ctx, edit=True))
    return None


def _style_chosen(
    state: UserState, ctx: Situation, file_id: str | None, painting: str | None, *, edit: bool = False
) -> Outcome:
    """A style picture (sent, sent before, or a painting) chosen: the options; or, for a mix's second style, the
    question of how much of each."""
    flow = replace(state.flow, previewed=False)  # other styles: their preview is yet to be seen
    if flow.picking_mix:
        flow = replace(flow, mix_style_file_id=file_id, mix_painting=painting, picking_mix=False)
        new = _moved(state, step=Step.MIX_RATIO, flow=flow)
        return Outcome(new, _mix_ratio_reply(new, ctx, edit=edit))
    new = _moved(state, step=Step.NST_OPTIONS, flow=replace(flow, style_file_id=file_id, painting=painting))
    return Outcome(new, _options_reply(new, ctx, edit=edit))


def _mix_ratio_reply(state: UserState, ctx: Situation, *, edit: bool) -> Reply:
    """How much of each of the mix's two styles."""
    first, second = _style_names(state, ctx)
    return Reply(_t(state, ctx, "mix_ratio_ask", first=first, second=second), keyboards.mix_ratios(), edit=edit)


def _style_names(state: UserState, ctx: Situation) -> tuple[str, str]:
    """The names of the two styles of a mix: a painting's title, or "your style"."""
    lang = _lang(state, ctx)
    flow = state.flow

    def name(painting_id: str | None, own: str) -> str:
        painting = ctx.catalogue.painting(painting_id)
        return _t(state, ctx, own) if painting is None else _t(state, ctx, "painting_name", title=painting.title(lang))

    return name(flow.painting, "style_yours"), name(flow.mix_painting, "style_yours_second")


def _own_style_for(state: UserState, ctx: Situation, *, edit: bool) -> Outcome:
    """Own style for the photo already kept: options if an album brought the style picture too, else ask."""
    if state.flow.style_file_id is not None:
        new = _moved(state, step=Step.NST_OPTIONS)
        return Outcome(new, _options_reply(new, ctx, edit=edit))
    new = _moved(state, step=Step.NST_STYLE)
    return Outcome(new, _ask_style_reply(new, ctx, edit=edit))


def _to_paintings(state: UserState, ctx: Situation) -> Outcome:
    """The famous paintings for the photo already kept: their previews, then one button a painting (a new
    message under the album); the tapped message's buttons go."""
    new = _moved(state, step=Step.PAINTING_PICK)
    keyboard = keyboards.paintings_gallery(ctx.catalogue.paintings, _lang(new, ctx))
    reply = Reply(_t(new, ctx, "paintings_gallery"), keyboard)
    return Outcome(new, reply, remove_tapped_keyboard=True, show_paintings=True)


def _tap_recent(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    """A style picture sent before, taken again: the options, as if it had just been sent."""
    recent = state.recent_styles
    if state.step not in (Step.NST_STYLE, Step.PAINTING_PICK) or not arg.isdigit() or int(arg) >= len(recent):
        return None
    return _style_chosen(state, ctx, recent[int(arg)], None, edit=True)


def _remember_style(recent: tuple[str, ...], file_id: str | None) -> tuple[str, ...]:
    """The recent style pictures with `file_id` (if any) as the newest, each once, at most RECENT_STYLES."""
    if file_id is None:
        return recent
    return (file_id, *(r for r in recent if r != file_id))[:RECENT_STYLES]


def _tap_painting(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    """A painting chosen as the style picture: the options, as for a picture the user sent."""
    painting = ctx.catalogue.painting(arg)
    if state.step != Step.PAINTING_PICK or painting is None:
        return None
    return _style_chosen(state, ctx, None, painting.id, edit=True)


def _tap_preset(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    preset = next((p for p in ctx.catalogue.presets if p.id == arg), None)
    if state.step != Step.PRESET_PICK or preset is None:
        return None
    if state.flow.content_file_id is not None:  # "another style" for a photo already sent
        new = _moved(state, step=Step.PRESET_OPTIONS, flow=replace(state.flow, preset=preset.id))
        return Outcome(new, _options_reply(new, ctx, edit=True))
    new = _moved(state, step=Step.PRESET_PHOTO, flow=Flow(preset=preset.id))
    return Outcome(new, Reply(_t(new, ctx, "ask_preset_photo", preset=preset.name(_lang(new, ctx))), edit=True))


def _tap_option(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    flow = state.flow
    name, _, value = arg.partition(":")
    if state.step == Step.MIX_RATIO and name == "ratio" and value in tuple(MixRatio):
        new = _moved(state, step=Step.NST_OPTIONS, flow=replace(flow, mix_ratio=MixRatio(value)))
        return Outcome(new, _options_reply(new, ctx, edit=True))
    if state.step not in (Step.NST_OPTIONS, Step.PRESET_OPTIONS):
        return None
    if name == "mix" and state.step == Step.NST_OPTIONS:
        return _mix(state, ctx, value == "1")
    if name == "prev" and state.step == Step.NST_OPTIONS and flow.quality == Quality.QUICK and not flow.previewed:
        return _preview(state, ctx)
    if name == "go":
        return _start_job(state, ctx)
    if name == "x":
        new = _moved(state, step=Step.IDLE, flow=Flow())
        return Outcome(new, Reply(_t(new, ctx, "cancelled"), edit=True))
    if name == "size" and value.isdigit() and int(value) in SIZES:
        flow = replace(flow, size=int(value))
    elif name == "str" and value in tuple(Strength):
        flow = replace(flow, strength=Strength(value))
    elif name == "col" and value in ("0", "1"):
        flow = replace(flow, keep_colors=value == "1")
    elif name == "q" and value == Quality.BEST and ctx.allowance.budget != BudgetLevel.OPEN:
        # Paused by the budget: the button says so, and a tap on it tells why; nothing changes.
        return Outcome(state, toast=_budget_note(state, ctx), write=False)
    elif name == "q" and value in ctx.catalogue.qualities:
        flow = replace(flow, quality=Quality(value))
    else:
        return None
    new = _moved(state, flow=flow)
    return Outcome(new, _options_reply(new, ctx, edit=True))


def _preview(state: UserState, ctx: Situation) -> Outcome:
    """The preview strip: a small quick job that sends the photo at each strength, its buttons setting one. It
    takes no quota (it is tiny, and asked for once for these styles: the button goes) and leaves the user free."""
    if ctx.allowance.refusal(QuotaKind.QUICK) is not None:
        return Outcome(state, toast=_t(state, ctx, "preview_unavailable"), write=False)
    flow = state.flow
    assert flow.content_file_id is not None
    job = Job(
        job_id=ctx.new_job_id,
        user_id=state.user_id,
        chat_id=ctx.chat_id,
        kind=Kind.NST,
        content_file_id=flow.content_file_id,
        content_message_id=flow.content_message_id,
        style_file_id=flow.style_file_id,
        painting=flow.painting,
        mix_style_file_id=flow.mix_style_file_id,
        mix_painting=flow.mix_painting,
        mix_ratio=flow.mix_ratio,
        preview=True,
        quality=Quality.QUICK,
        size=flow.size or state.size,
        strength=flow.strength,
        keep_colors=flow.keep_colors,
        as_file=False,
        language=_lang(state, ctx),
        enqueued_at=ctx.now,
    )
    new = _moved(state, flow=replace(flow, previewed=True), recent_jobs=(*state.recent_jobs, job.job_id)[-10:])
    return Outcome(new, _options_reply(new, ctx, edit=True), toast=_t(new, ctx, "preview_coming"), job=job)


def _mix(state: UserState, ctx: Situation, wanted: bool) -> Outcome:
    """Mix another style in (ask for it: a picture, a recent one or a painting), or drop the mix."""
    if not wanted:
        flow = replace(state.flow, mix_style_file_id=None, mix_painting=None, mix_ratio=None, previewed=False)
        new = _moved(state, flow=flow)
        return Outcome(new, _options_reply(new, ctx, edit=True))
    new = _moved(state, step=Step.NST_STYLE, flow=replace(state.flow, picking_mix=True))
    keyboard = keyboards.style_choice(
        _lang(new, ctx), paintings=bool(ctx.catalogue.paintings), recent=len(new.recent_styles), back=True
    )
    return Outcome(new, Reply(_t(new, ctx, "ask_mix_style"), keyboard, edit=True))


def _tap_setting(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    name, _, value = arg.partition(":")
    if name == "lang" and value in tuple(Language):
        new = _moved(state, language=Language(value))
    elif name == "size" and value.isdigit() and int(value) in SIZES:
        new = _moved(state, size=int(value))
    elif name == "out" and value in ("photo", "file"):
        new = _moved(state, as_file=value == "file")
    else:
        return None
    return Outcome(new, _settings_reply(new, ctx, edit=True))


def _tap_job(state: UserState, arg: str, ctx: Situation) -> Outcome | None:
    if arg != "cancel":
        return None
    if state.active_job is None:
        new = _moved(state)
        return Outcome(new, Reply(_t(new, ctx, "nothing_to_cancel"), edit=True))
    new = _moved(state, active_job=None, job_started_at=None)
    return Outcome(new, Reply(_t(new, ctx, "job_cancelled"), edit=True), cancel_job=state.active_job)


def _tap_again(state: UserState, arg: str, ctx: Situation) -> Outcome:
    """The buttons under a result: that job's photo again, with another style or other options."""
    what, _, job_id = arg.partition(":")
    job = ctx.tapped_job
    if job is None or job.job_id != job_id or job.user_id != state.user_id:
        return Outcome(state, toast=_t(state, ctx, "result_expired"), remove_tapped_keyboard=True)
    flow = _flow_of(job)
    if what == keyboards.AGAIN_STYLE and job.kind == Kind.NST:
        unstyled = replace(flow, style_file_id=None, painting=None, mix_style_file_id=None, mix_painting=None)
        new = _moved(state, step=Step.NST_STYLE, flow=replace(unstyled, mix_ratio=None))
        return Outcome(new, _ask_style_reply(new, ctx, edit=False, again=True))
    if what == keyboards.AGAIN_STYLE:
        return _to_gallery(state, ctx, replace(flow, preset=None), previews=False)
    strength = what.removeprefix(keyboards.AGAIN_STRENGTH)
    if what.startswith(keyboards.AGAIN_STRENGTH) and strength in tuple(Strength) and job.kind == Kind.NST:
        # A strength under a preview strip: that photo and those styles, at that strength (previewed already).
        flow = replace(flow, strength=Strength(strength), previewed=True)
        new = _moved(state, step=Step.NST_OPTIONS, flow=flow)
        return Outcome(new, _options_reply(new, ctx, edit=False))
    if what == keyboards.AGAIN_OPTIONS:
        new = _moved(state, step=Step.NST_OPTIONS if job.kind == Kind.NST else Step.PRESET_OPTIONS, flow=flow)
        return Outcome(new, _options_reply(new, ctx, edit=False))
    return Outcome(state, toast=_t(state, ctx, "outdated"), remove_tapped_keyboard=True)


def _flow_of(job: Job) -> Flow:
    """The choices a job was made with, as a flow to start from."""
    return Flow(
        content_file_id=job.content_file_id,
        content_message_id=job.content_message_id,
        style_file_id=job.style_file_id,
        painting=job.painting,
        mix_style_file_id=job.mix_style_file_id,
        mix_painting=job.mix_painting,
        mix_ratio=job.mix_ratio,
        preset=job.preset,
        strength=job.strength,
        keep_colors=job.keep_colors,
        quality=job.quality,
        size=job.size,
    )


def _not_queued(state: UserState, event: NotQueued, ctx: Situation) -> Outcome:
    """The job could not be queued: back on its options screen, photo and style kept, so that Start can be
    tapped again (as the text says); if its quota was taken meanwhile, the screen says so instead."""
    job = event.job
    if state.active_job not in (None, job.job_id):
        failed = _t(state, ctx, "job_start_failed") if event.quota is None else _quota_text(state, ctx, event.quota)
        return Outcome(state, Reply(failed))
    new = _moved(
        state,
        step=Step.NST_OPTIONS if job.kind == Kind.NST else Step.PRESET_OPTIONS,
        flow=_flow_of(job),
        active_job=None,
        job_started_at=None,
    )
    if event.quota is not None:
        return _quota_refused(new, ctx, event.quota)
    options = _options_reply(new, ctx, edit=True)
    return Outcome(new, replace(options, text=f"{_t(new, ctx, 'job_start_failed')}\n\n{options.text}"))


def _quota_refused(state: UserState, ctx: Situation, kind: QuotaKind) -> Outcome:
    """A Start past today's quota of `kind`: the refusal, and only what still works. Best quality refused while
    quick is not: the options come back set to quick, under the refusal; anything else: no buttons (a Start that
    would be refused again is no button to offer)."""
    refusal = _quota_text(state, ctx, kind)
    quick_left = (
        kind == QuotaKind.BEST
        and Quality.QUICK in ctx.catalogue.qualities
        and ctx.allowance.refusal(QuotaKind.QUICK) is None
    )
    if not quick_left:
        return Outcome(state, Reply(refusal, edit=True))
    new = _moved(state, flow=replace(state.flow, quality=Quality.QUICK))
    options = _options_reply(new, ctx, edit=True)
    body = f"{refusal}\n{_t(new, ctx, 'quota_quick_left')}\n\n{options.text}"
    return Outcome(new, replace(options, text=body))


_TAPS = {
    "m": _tap_menu,
    "p": _tap_preset,
    "o": _tap_option,
    "s": _tap_setting,
    "j": _tap_job,
    keyboards.PAINTING: _tap_painting,
    keyboards.RECENT: _tap_recent,
}


def _start_job(state: UserState, ctx: Situation) -> Outcome:
    if state.active_job is not None:
        new = _moved(state)
        status = _t(new, ctx, "job_status_running" if ctx.job_status == JobStatus.RUNNING else "job_status_queued")
        keyboard = keyboards.progress_keyboard(_lang(new, ctx))
        return Outcome(new, Reply(_t(new, ctx, "job_busy", status=status), keyboard, edit=True))
    flow = state.flow
    assert flow.content_file_id is not None
    job_kind = Kind.NST if state.step == Step.NST_OPTIONS else Kind.PRESET
    refusal = ctx.allowance.refusal(quota_kind(job_kind, flow.quality))
    if refusal is not None and refusal.reason == RefusalReason.BUDGET:
        # Best quality paused: the options come back set to quick, saying why; a paused preset says why too.
        quality = Quality.QUICK if refusal.kind == QuotaKind.BEST else flow.quality
        new = _moved(state, flow=replace(flow, quality=quality))
        return Outcome(new, _options_reply(new, ctx, edit=True), refused=refusal)
    if refusal is not None:
        return replace(_quota_refused(_moved(state), ctx, refusal.kind), refused=refusal)
    job = Job(
        job_id=ctx.new_job_id,
        user_id=state.user_id,
        chat_id=ctx.chat_id,
        kind=job_kind,
        content_file_id=flow.content_file_id,
        style_file_id=flow.style_file_id if state.step == Step.NST_OPTIONS else None,
        painting=flow.painting if state.step == Step.NST_OPTIONS else None,
        mix_style_file_id=flow.mix_style_file_id if state.step == Step.NST_OPTIONS else None,
        mix_painting=flow.mix_painting if state.step == Step.NST_OPTIONS else None,
        mix_ratio=flow.mix_ratio if state.step == Step.NST_OPTIONS else None,
        preset=flow.preset if state.step == Step.PRESET_OPTIONS else None,
        quality=flow.quality,
        size=flow.size or state.size,
        strength=flow.strength,
        keep_colors=flow.keep_colors,
        as_file=state.as_file,
        language=_lang(state, ctx),
        progress_message_id=ctx.tapped_message_id,
        content_message_id=flow.content_message_id,
        enqueued_at=ctx.now,
    )
    new = _moved(
        state,
        step=Step.IDLE,
        active_job=job.job_id,
        job_started_at=ctx.now,
        recent_jobs=(*state.recent_jobs, job.job_id)[-10:],
        recent_styles=_remember_style(_remember_style(state.recent_styles, job.mix_style_file_id), job.style_file_id),
    )
    return Outcome(
        new, Reply(_t(new, ctx, "job_queued"), keyboards.progress_keyboard(_lang(new, ctx)), edit=True), job=job
    )


# --- replies --------------------------------------------------------------------------------------------------


def _to_gallery(
    state: UserState, ctx: Situation, flow: Flow, *, remove_tapped: bool = False, previews: bool = True
) -> Outcome:
    """The gallery of presets for `flow`; where no preset can run here, say so and what makes them available
    (an empty keyboard is no gallery: Telegram refuses it)."""
    if not ctx.catalogue.presets:
        line = _unavailable_line(state, ctx)
        body = _t(state, ctx, "no_presets")
        return Outcome(state, Reply(body if line is None else f"{body}\n\n{line}"))
    new = _moved(state, step=Step.PRESET_PICK, flow=flow)
    return Outcome(
        new, _gallery_reply(new, ctx, edit=False), remove_tapped_keyboard=remove_tapped, show_previews=previews
    )


def _gallery_reply(state: UserState, ctx: Situation, *, edit: bool) -> Reply:
    return Reply(_t(state, ctx, "gallery"), keyboards.gallery(ctx.catalogue.presets, _lang(state, ctx)), edit=edit)


def _ask_style_reply(state: UserState, ctx: Situation, *, edit: bool, again: bool = False) -> Reply:
    """Ask for the style picture; the ones sent recently and the famous paintings are a tap away. `again`: for
    the photo of a result, which the user did not just send."""
    recent = len(state.recent_styles)
    keyboard = keyboards.style_choice(_lang(state, ctx), paintings=bool(ctx.catalogue.paintings), recent=recent)
    key = ("ask_style_again" if again else "ask_style") + ("_recent" if recent else "")
    return Reply(_t(state, ctx, key), keyboard, edit=edit)


def _settings_reply(state: UserState, ctx: Situation, *, edit: bool) -> Reply:
    lang = _lang(state, ctx)
    output = "output_file" if state.as_file else "output_photo"
    body = _t(
        state, ctx, "settings", lang_name=text("language_name", lang), size=state.size, output=_t(state, ctx, output)
    )
    return Reply(body, keyboards.settings(lang, state.size, state.as_file), edit=edit)


def _budget_note(state: UserState, ctx: Situation) -> str | None:
    """The one line that says why the budget pauses some jobs now (None: it pauses nothing)."""
    allowance = ctx.allowance
    reset = clock_time(allowance.resets_at, allowance.time_zone)
    if allowance.budget == BudgetLevel.QUICK_ONLY:
        return _t(state, ctx, "budget_quick_only", reset=reset)
    if allowance.budget == BudgetLevel.BEST_PAUSED:
        return _t(state, ctx, "budget_best_paused", reset=reset)
    return None


def _quota_text(state: UserState, ctx: Situation, kind: QuotaKind) -> str:
    allowance = ctx.allowance
    return quota_text(kind, allowance.limits.get(kind), ctx.now, allowance.time_zone, _lang(state, ctx))


def _with_note(body: str, note: str | None) -> str:
    return body if note is None else f"{body}\n\n{note}"


def _options_reply(state: UserState, ctx: Situation, *, edit: bool) -> Reply:
    flow = state.flow
    lang = _lang(state, ctx)
    strength = _t(state, ctx, f"strength_{flow.strength}")
    note = _budget_note(state, ctx)
    if state.step == Step.PRESET_OPTIONS:
        preset = next((p for p in ctx.catalogue.presets if p.id == flow.preset), PresetInfo(flow.preset or "?", {}))
        body = _t(state, ctx, "preset_options", preset=preset.name(lang), strength=strength)
        preset_note = note if ctx.allowance.budget == BudgetLevel.QUICK_ONLY else None
        return Reply(_with_note(body, preset_note), keyboards.preset_options(flow, lang), edit=edit)
    size = flow.size or state.size
    body = _t(
        state,
        ctx,
        "nst_options",
        size=size,
        strength=strength,
        colors=_t(state, ctx, "yes" if flow.keep_colors else "no"),
        quality=_t(state, ctx, f"quality_{flow.quality}"),
    )
    # Above the options, the style when it is not a picture the user just sent: the painting, the mix.
    painting = ctx.catalogue.painting(flow.painting)
    header = [] if painting is None else [_t(state, ctx, "painting_chosen", painting=painting.caption(lang))]
    if flow.mix_ratio is not None:
        second = _style_names(state, ctx)[1]
        header.append(_t(state, ctx, "mix_chosen", second=second, ratio=flow.mix_ratio.label))
    body = "\n".join([*header, "", body]) if header else body
    best_available = ctx.allowance.budget == BudgetLevel.OPEN
    keyboard = keyboards.nst_options(flow, size, lang, ctx.catalogue.qualities, best_available=best_available)
    return Reply(_with_note(body, note), keyboards.own_style_extras(keyboard, flow, lang), edit=edit)


def _help_reply(state: UserState, ctx: Situation) -> Reply:
    """Help about what can run here, and in one line what cannot and the command that makes it available."""
    body = help_text(_lang(state, ctx), presets=bool(ctx.catalogue.presets))
    line = _unavailable_line(state, ctx)
    return Reply(body if line is None else f"{body}\n\n{line}")


def _unavailable_line(state: UserState, ctx: Situation) -> str | None:
    """What cannot run here for want of weights, and the command that fetches them (None: everything can)."""
    catalogue = ctx.catalogue
    if catalogue.complete:
        return None
    lang = _lang(state, ctx)
    missing = [_t(state, ctx, f"quality_{q}_name") for q in Quality if q not in catalogue.qualities]
    missing += [p.name(lang) for p in catalogue.missing_presets]
    return _t(state, ctx, "help_unavailable", what=", ".join(missing), command=catalogue.fetch_command)
