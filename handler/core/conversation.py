"""The conversation as a pure function: (state, input, context) -> outcome. No I/O, no telegram, no boto3.

Adapters turn a Telegram update into an `Input`, load the state, call `decide`, save the new state with a
conditional write (re-reading and deciding again on conflict), and only then carry out the replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from handler.core.state import (
    AWAITING_IMAGE,
    FINISHED,
    LANGUAGES,
    QUALITIES,
    SIZES,
    STRENGTHS,
    Flow,
    JobSpec,
    Step,
    UserState,
)
from handler.core.texts import language_of, text

# --- inputs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Image:
    """A picture the user sent (compressed photo or image document), already checked by the adapter."""

    file_id: str
    message_id: int
    album_id: str | None = None


@dataclass(frozen=True)
class Rejected:
    """Something that cannot be used as a picture; `reason` names the reply (`bad_<reason>`)."""

    reason: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Tap:
    """A press of an inline button: callback data `<prefix>:<generation>:<arg>`."""

    prefix: str
    generation: int
    arg: str


@dataclass(frozen=True)
class ForgedTap:
    """Callback data we never produced (unknown shape, huge numbers...)."""


Input = Command | Text | Image | Rejected | Tap | ForgedTap

CALLBACK_RE = re.compile(r"^([a-z]):(\d{1,9}):([a-z0-9_.-]{1,40}(?::[a-z0-9_.-]{1,20})?)$")


def parse_callback(data: str | None) -> Tap | ForgedTap:
    """Parse callback data; anything not of our shape is a ForgedTap."""
    match = CALLBACK_RE.match(data or "")
    if match is None:
        return ForgedTap()
    return Tap(match.group(1), int(match.group(2)), match.group(3))


# --- outputs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # "<prefix>:<arg>"; stamped with the generation when the keyboard is sent


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: Keyboard | None = None
    edit: bool = False  # replace the tapped message instead of sending a new one


@dataclass(frozen=True)
class Outcome:
    state: UserState
    reply: Reply | None = None  # a message update always gets one; a tap may edit its message
    toast: str | None = None  # the callback answer's text
    remove_tapped_keyboard: bool = False
    job: JobSpec | None = None
    cancel_job: str | None = None
    forget: bool = False
    show_previews: bool = False  # the preset previews go before the reply (the gallery)
    write: bool = True  # False: nothing to store (a silently dropped flood message)


def callback_data(action: str, generation: int) -> str:
    prefix, _, arg = action.partition(":")
    return f"{prefix}:{generation}:{arg}"


# --- context --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetInfo:
    id: str
    names: Mapping[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.id


@dataclass(frozen=True)
class Context:
    now: float
    chat_id: int
    first_name: str = ""
    telegram_language: str | None = None
    presets: Sequence[PresetInfo] = ()
    new_job_id: str = ""
    job_status: str | None = None  # of the state's active job, if it has one
    tapped_message_id: int | None = None


# --- rate limiting --------------------------------------------------------------------------------------------

BUCKET_SIZE = 20.0
REFILL_PER_SECOND = 1.0
FLOOD_WARNING_EVERY = 10.0


def _take_token(state: UserState, now: float) -> tuple[UserState, bool]:
    tokens = min(BUCKET_SIZE, state.tokens + max(0.0, now - state.tokens_at) * REFILL_PER_SECOND)
    if tokens < 1.0:
        return state, False
    return state.with_(tokens=tokens - 1.0, tokens_at=now), True


# --- the decision ---------------------------------------------------------------------------------------------


def decide(state: UserState, event: Input, ctx: Context) -> Outcome:
    """What to do with one input from the user in `state`."""
    state, allowed = _take_token(state, ctx.now)
    if not allowed:
        if isinstance(event, Tap | ForgedTap):
            return Outcome(state, toast=_t(state, ctx, "flood"), write=False)
        if ctx.now - state.flood_warned_at < FLOOD_WARNING_EVERY:
            return Outcome(state, write=False)
        return Outcome(state.with_(flood_warned_at=ctx.now), Reply(_t(state, ctx, "flood")))
    state = _expire_lost_job(state, ctx)
    match event:
        case Command():
            return _command(state, event.name, ctx)
        case Text():
            return _text(state, ctx)
        case Image():
            return _image(state, event, ctx)
        case Rejected():
            return Outcome(state, Reply(_t(state, ctx, f"bad_{event.reason}", **event.values)))
        case Tap() if event.generation == state.generation:
            return _tap(state, event, ctx)
        case _:
            return Outcome(state, toast=_t(state, ctx, "outdated"), remove_tapped_keyboard=True)


def _expire_lost_job(state: UserState, ctx: Context) -> UserState:
    if state.active_job is not None and (not state.job_is_running(ctx.now) or ctx.job_status in FINISHED):
        return state.with_(active_job=None, job_started_at=None)
    return state


def _lang(state: UserState, ctx: Context) -> str:
    return state.language or language_of(ctx.telegram_language)


def _t(state: UserState, ctx: Context, key: str, **values: object) -> str:
    return text(key, _lang(state, ctx), **values)


def _moved(state: UserState, **changes: object) -> UserState:
    """A transition: every keyboard sent before it becomes stale."""
    return replace(state, generation=state.generation + 1, **changes)  # type: ignore[arg-type]


def _menu(state: UserState, ctx: Context) -> Keyboard:
    return (
        (Button(_t(state, ctx, "btn_nst"), "m:nst"),),
        (Button(_t(state, ctx, "btn_presets"), "m:pre"),),
        (Button(_t(state, ctx, "btn_settings"), "m:set"), Button(_t(state, ctx, "btn_help"), "m:help")),
    )


def _command(state: UserState, name: str, ctx: Context) -> Outcome:
    if name == "start":
        new = _moved(state, step=Step.IDLE, flow=Flow())
        return Outcome(new, Reply(_t(new, ctx, "start", name=ctx.first_name), _menu(new, ctx)))
    if name == "help":
        return Outcome(state, Reply(_t(state, ctx, "help")))
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
        new = _moved(state, step=Step.PRESET_PICK, flow=Flow())
        return Outcome(new, _gallery_reply(new, ctx, edit=False), show_previews=True)
    if name == "forget":
        fresh = UserState(user_id=state.user_id)
        return Outcome(fresh, Reply(_t(state, ctx, "forgotten")), cancel_job=state.active_job, forget=True)
    return Outcome(state, Reply(_t(state, ctx, "unknown_command")))


def _text(state: UserState, ctx: Context) -> Outcome:
    if state.step in AWAITING_IMAGE:
        return Outcome(state, Reply(_t(state, ctx, "expect_picture")))
    if state.step != Step.IDLE:
        return Outcome(state, Reply(_t(state, ctx, "use_buttons")))
    return Outcome(state, Reply(_t(state, ctx, "idle_text")))


def _image(state: UserState, image: Image, ctx: Context) -> Outcome:
    flow = state.flow
    if image.album_id is not None and image.album_id == flow.album_id:
        return _album_item(state, image, ctx)
    if state.step == Step.NST_CONTENT:
        if image.album_id is not None:
            new = state.with_(flow=replace(flow, album_id=image.album_id, album={str(image.message_id): image.file_id}))
            return Outcome(new, Reply(_t(new, ctx, "album_first")))
        new = _moved(state, step=Step.NST_STYLE, flow=replace(flow, content_file_id=image.file_id, album_id=None))
        return Outcome(new, Reply(_t(new, ctx, "ask_style")))
    if state.step == Step.NST_STYLE:
        new = _moved(
            state, step=Step.NST_OPTIONS, flow=replace(flow, style_file_id=image.file_id, album_id=image.album_id)
        )
        return Outcome(new, _options_reply(new, ctx, edit=False))
    if state.step == Step.PRESET_PHOTO:
        new = _moved(
            state, step=Step.PRESET_OPTIONS, flow=replace(flow, content_file_id=image.file_id, album_id=image.album_id)
        )
        return Outcome(new, _options_reply(new, ctx, edit=False))
    return Outcome(state, Reply(_t(state, ctx, "not_expecting_picture")))


def _album_item(state: UserState, image: Image, ctx: Context) -> Outcome:
    """Another picture of the album already being collected."""
    flow = state.flow
    album = dict(flow.album)
    if state.step == Step.NST_CONTENT and len(album) == 1 and str(image.message_id) not in album:
        album[str(image.message_id)] = image.file_id
        content, style = (album[k] for k in sorted(album, key=int))
        new = _moved(
            state,
            step=Step.NST_OPTIONS,
            flow=replace(flow, content_file_id=content, style_file_id=style, album=album),
        )
        return Outcome(new, _options_reply(new, ctx, edit=False))
    if len(album) == 2:
        # A third picture of an album that filled both slots: undo the album, back to asking for the photo.
        new = _moved(state, step=Step.NST_CONTENT, flow=Flow(album_id=flow.album_id, album={"overflow": "1"}))
        return Outcome(new, Reply(_t(new, ctx, "album_too_big")))
    if "overflow" in album:
        return Outcome(state, Reply(_t(state, ctx, "album_too_big")))
    return Outcome(state, Reply(_t(state, ctx, "one_at_a_time")))


# --- taps -----------------------------------------------------------------------------------------------------


def _tap(state: UserState, tap: Tap, ctx: Context) -> Outcome:
    handler = _TAPS.get(tap.prefix)
    outcome = handler(state, tap.arg, ctx) if handler else None
    if outcome is None:  # a current keyboard, but the button makes no sense now
        return Outcome(state, toast=_t(state, ctx, "outdated"), remove_tapped_keyboard=True)
    return outcome


def _tap_menu(state: UserState, arg: str, ctx: Context) -> Outcome | None:
    if arg == "nst":
        new = _moved(state, step=Step.NST_CONTENT, flow=Flow())
        return Outcome(new, Reply(_t(new, ctx, "ask_content"), edit=True))
    if arg == "pre":
        # The gallery comes as a new message under its previews; the menu's buttons go.
        new = _moved(state, step=Step.PRESET_PICK, flow=Flow())
        return Outcome(new, _gallery_reply(new, ctx, edit=False), remove_tapped_keyboard=True, show_previews=True)
    if arg == "set":
        new = _moved(state)
        return Outcome(new, _settings_reply(new, ctx, edit=True))
    if arg == "help":
        new = _moved(state)
        return Outcome(new, Reply(_t(new, ctx, "help"), edit=True))
    return None


def _tap_preset(state: UserState, arg: str, ctx: Context) -> Outcome | None:
    preset = next((p for p in ctx.presets if p.id == arg), None)
    if state.step != Step.PRESET_PICK or preset is None:
        return None
    if state.flow.content_file_id is not None:  # "another style" for a photo already sent
        new = _moved(state, step=Step.PRESET_OPTIONS, flow=replace(state.flow, preset=preset.id))
        return Outcome(new, _options_reply(new, ctx, edit=True))
    new = _moved(state, step=Step.PRESET_PHOTO, flow=Flow(preset=preset.id))
    return Outcome(new, Reply(_t(new, ctx, "ask_preset_photo", preset=preset.name(_lang(new, ctx))), edit=True))


def _tap_option(state: UserState, arg: str, ctx: Context) -> Outcome | None:
    if state.step not in (Step.NST_OPTIONS, Step.PRESET_OPTIONS):
        return None
    flow = state.flow
    name, _, value = arg.partition(":")
    if name == "go":
        return _start_job(state, ctx)
    if name == "x":
        new = _moved(state, step=Step.IDLE, flow=Flow())
        return Outcome(new, Reply(_t(new, ctx, "cancelled"), edit=True))
    if name == "size" and value.isdigit() and int(value) in SIZES:
        flow = replace(flow, size=int(value))
    elif name == "str" and value in STRENGTHS:
        flow = replace(flow, strength=value)
    elif name == "col" and value in ("0", "1"):
        flow = replace(flow, keep_colors=value == "1")
    elif name == "q" and value in QUALITIES:
        flow = replace(flow, quality=value)
    else:
        return None
    new = _moved(state, flow=flow)
    return Outcome(new, _options_reply(new, ctx, edit=True))


def _tap_setting(state: UserState, arg: str, ctx: Context) -> Outcome | None:
    name, _, value = arg.partition(":")
    if name == "lang" and value in LANGUAGES:
        new = _moved(state, language=value)
    elif name == "size" and value.isdigit() and int(value) in SIZES:
        new = _moved(state, size=int(value))
    elif name == "out" and value in ("photo", "file"):
        new = _moved(state, as_file=value == "file")
    else:
        return None
    return Outcome(new, _settings_reply(new, ctx, edit=True))


def _tap_job(state: UserState, arg: str, ctx: Context) -> Outcome | None:
    if arg != "cancel":
        return None
    if state.active_job is None:
        new = _moved(state)
        return Outcome(new, Reply(_t(new, ctx, "nothing_to_cancel"), edit=True))
    new = _moved(state, active_job=None, job_started_at=None)
    return Outcome(new, Reply(_t(new, ctx, "job_cancelled"), edit=True), cancel_job=state.active_job)


def _tap_again(state: UserState, arg: str, ctx: Context) -> Outcome | None:
    """The buttons under a result: the same photo with another style, or with other options."""
    flow = state.flow
    if flow.content_file_id is None:
        return None
    nst = flow.style_file_id is not None and flow.preset is None
    if arg == "style" and nst:
        new = _moved(state, step=Step.NST_STYLE, flow=replace(flow, style_file_id=None, album_id=None, album={}))
        return Outcome(new, Reply(_t(new, ctx, "ask_style")))
    if arg == "style":
        new = _moved(state, step=Step.PRESET_PICK)
        return Outcome(new, _gallery_reply(new, ctx, edit=False))
    if arg == "opts":
        new = _moved(state, step=Step.NST_OPTIONS if nst else Step.PRESET_OPTIONS)
        return Outcome(new, _options_reply(new, ctx, edit=False))
    return None


_TAPS = {"m": _tap_menu, "p": _tap_preset, "o": _tap_option, "s": _tap_setting, "j": _tap_job, "r": _tap_again}


def result_keyboard(language: str) -> Keyboard:
    """The buttons under a finished picture (stamped by whoever sends it)."""
    return (
        (
            Button(text("btn_again_style", language), "r:style"),
            Button(text("btn_again_options", language), "r:opts"),
        ),
    )


def progress_keyboard(language: str) -> Keyboard:
    return ((Button(text("btn_cancel_job", language), "j:cancel"),),)


def _start_job(state: UserState, ctx: Context) -> Outcome:
    if state.active_job is not None:
        new = _moved(state)
        status = _t(new, ctx, "job_status_running" if ctx.job_status == "RUNNING" else "job_status_queued")
        keyboard = progress_keyboard(_lang(new, ctx))
        return Outcome(new, Reply(_t(new, ctx, "job_busy", status=status), keyboard, edit=True))
    flow = state.flow
    assert flow.content_file_id is not None
    job = JobSpec(
        job_id=ctx.new_job_id,
        user_id=state.user_id,
        chat_id=ctx.chat_id,
        kind="nst" if state.step == Step.NST_OPTIONS else "preset",
        content_file_id=flow.content_file_id,
        style_file_id=flow.style_file_id if state.step == Step.NST_OPTIONS else None,
        preset=flow.preset if state.step == Step.PRESET_OPTIONS else None,
        quality=flow.quality,
        size=flow.size or state.size,
        strength=STRENGTHS[flow.strength],
        keep_colors=flow.keep_colors,
        as_file=state.as_file,
        language=_lang(state, ctx),
        progress_message_id=ctx.tapped_message_id,
    )
    new = _moved(
        state,
        step=Step.IDLE,
        active_job=job.job_id,
        job_started_at=ctx.now,
        recent_jobs=(*state.recent_jobs, job.job_id)[-10:],
    )
    return Outcome(new, Reply(_t(new, ctx, "job_queued"), progress_keyboard(_lang(new, ctx)), edit=True), job=job)


# --- keyboards ------------------------------------------------------------------------------------------------


def _gallery_reply(state: UserState, ctx: Context, *, edit: bool) -> Reply:
    lang = _lang(state, ctx)
    buttons = [Button(p.name(lang), f"p:{p.id}") for p in ctx.presets]
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return Reply(_t(state, ctx, "gallery"), rows, edit=edit)


def _settings_reply(state: UserState, ctx: Context, *, edit: bool) -> Reply:
    lang = _lang(state, ctx)
    other = "ru" if lang == "en" else "en"
    output = "output_file" if state.as_file else "output_photo"
    keyboard: Keyboard = (
        (Button(text("set_lang", other, lang_name=text("language_name", other)), f"s:lang:{other}"),),
        tuple(Button(_t(state, ctx, "set_size", size=s), f"s:size:{s}") for s in SIZES if s != state.size),
        (
            Button(_t(state, ctx, "set_output_photo"), "s:out:photo")
            if state.as_file
            else Button(_t(state, ctx, "set_output_file"), "s:out:file"),
        ),
    )
    body = _t(
        state, ctx, "settings", lang_name=text("language_name", lang), size=state.size, output=_t(state, ctx, output)
    )
    return Reply(body, keyboard, edit=edit)


def _options_reply(state: UserState, ctx: Context, *, edit: bool) -> Reply:
    flow = state.flow
    strength = _t(state, ctx, f"strength_{flow.strength}")
    next_strength = {"low": "mid", "mid": "high", "high": "low"}[flow.strength]
    go = (Button(_t(state, ctx, "btn_start"), "o:go"), Button(_t(state, ctx, "btn_cancel"), "o:x"))
    if state.step == Step.PRESET_OPTIONS:
        preset = next((p for p in ctx.presets if p.id == flow.preset), PresetInfo(flow.preset or "?", {}))
        keyboard: Keyboard = (
            (
                Button(
                    _t(state, ctx, "opt_strength", strength=_t(state, ctx, f"strength_{next_strength}")),
                    f"o:str:{next_strength}",
                ),
            ),
            go,
        )
        body = _t(state, ctx, "preset_options", preset=preset.name(_lang(state, ctx)), strength=strength)
        return Reply(body, keyboard, edit=edit)
    size = flow.size or state.size
    next_size = SIZES[(SIZES.index(size) + 1) % len(SIZES)]
    next_quality = "best" if flow.quality == "quick" else "quick"
    keyboard = (
        (
            Button(_t(state, ctx, "opt_size", size=next_size), f"o:size:{next_size}"),
            Button(
                _t(state, ctx, "opt_strength", strength=_t(state, ctx, f"strength_{next_strength}")),
                f"o:str:{next_strength}",
            ),
        ),
        (
            Button(
                _t(state, ctx, "opt_colors_off" if flow.keep_colors else "opt_colors_on"),
                f"o:col:{0 if flow.keep_colors else 1}",
            ),
            Button(
                _t(state, ctx, "opt_quality", quality=_t(state, ctx, f"quality_{next_quality}")), f"o:q:{next_quality}"
            ),
        ),
        go,
    )
    body = _t(
        state,
        ctx,
        "nst_options",
        size=size,
        strength=strength,
        colors=_t(state, ctx, "yes" if flow.keep_colors else "no"),
        quality=_t(state, ctx, f"quality_{flow.quality}"),
    )
    return Reply(body, keyboard, edit=edit)
