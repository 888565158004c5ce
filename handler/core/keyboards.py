"""The inline keyboards the bot shows, in the user's language. Buttons carry actions (`<prefix>:<arg>`); whoever
sends a keyboard stamps them with the user's generation (`handler.core.callbacks.callback_data`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handler.core.job import SIZES, Language, MixRatio, Quality, Strength
from handler.core.texts import text

if TYPE_CHECKING:
    from handler.core.inputs import PaintingInfo, PresetInfo
    from handler.core.state import Flow


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # "<prefix>:<arg>"; stamped with the generation when the keyboard is sent


Keyboard = tuple[tuple[Button, ...], ...]

# The buttons under a result: `r:<what>:<job id>`.
AGAIN_STYLE = "style"
AGAIN_OPTIONS = "opts"
# Under a preview strip: `r:str-<strength>:<job id>` sets that strength on the preview's photo and styles.
AGAIN_STRENGTH = "str-"

# The famous paintings: the button that opens their gallery (`m:art`), and the prefix of a painting's button.
PAINTINGS_ACTION = "m:art"
PAINTING = "a"
# A style picture the user sent before, by its place among their recent ones (`h:<index>`, 0 the newest).
RECENT = "h"

# The option buttons cycle through the values: a button shows the current one, a tap moves to the next.
NEXT_STRENGTH = {Strength.LOW: Strength.MID, Strength.MID: Strength.HIGH, Strength.HIGH: Strength.LOW}


def menu(language: str, *, presets: bool = True) -> Keyboard:
    """The main menu; the presets' button only where a preset can run."""
    rows: tuple[tuple[Button, ...], ...] = ((Button(text("btn_nst", language), "m:nst"),),)
    if presets:
        rows = (*rows, (Button(text("btn_presets", language), "m:pre"),))
    return (
        *rows,
        (Button(text("btn_settings", language), "m:set"), Button(text("btn_help", language), "m:help")),
    )


def _two_per_row(buttons: Sequence[Button]) -> Keyboard:
    """The layout of both galleries (presets and paintings): under their album of previews, two buttons a row."""
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def gallery(presets: Sequence[PresetInfo], language: str) -> Keyboard:
    return _two_per_row([Button(p.name(language), f"p:{p.id}") for p in presets])


def paintings_gallery(paintings: Sequence[PaintingInfo], language: str) -> Keyboard:
    """One button a painting, as the presets' gallery has one a preset."""
    return _two_per_row([Button(p.short_title(language), f"{PAINTING}:{p.id}") for p in paintings])


def style_choice(language: str, *, paintings: bool, recent: int = 0, back: bool = False) -> Keyboard | None:
    """Under "send the style picture": the style pictures the user sent recently (`recent` of them, newest
    first), the famous paintings where there are any, and (`back`, for a mix's second style) the way back to the
    options; no keyboard where there is nothing to tap."""
    rows: Keyboard = ()
    if recent:
        rows = (tuple(Button(text("btn_recent_style", language, n=i + 1), f"{RECENT}:{i}") for i in range(recent)),)
    if paintings:
        rows = (*rows, (Button(text("btn_paintings", language), PAINTINGS_ACTION),))
    if back:
        rows = (*rows, (Button(text("btn_back_to_options", language), "m:back"),))
    return rows or None


def mix_ratios() -> Keyboard:
    """How much of each of two mixed styles: 70/30, 50/50, 30/70."""
    return (tuple(Button(r.label, f"o:ratio:{r}") for r in MixRatio),)


def own_style_extras(keyboard: Keyboard, flow: Flow, language: str) -> Keyboard:
    """The own-style options with, above Start and Cancel, the preview strip (at quick quality, once for these
    styles) and a row to mix in another style (or to drop the mix)."""
    mixed = flow.mix_ratio is not None
    rows: Keyboard = ((Button(text("btn_unmix" if mixed else "btn_mix", language), f"o:mix:{0 if mixed else 1}"),),)
    if flow.quality == Quality.QUICK and not flow.previewed:
        rows = ((Button(text("btn_preview", language), "o:prev"),), *rows)
    return (*keyboard[:-1], *rows, keyboard[-1])


def strip_keyboard(language: str, job_id: str) -> Keyboard:
    """Under a preview strip: one button a strength, in the strip's order; a tap sets it (bound to the job)."""
    return (tuple(Button(text(f"strength_{s}", language), f"r:{AGAIN_STRENGTH}{s}:{job_id}") for s in Strength),)


def settings(language: str, size: int, as_file: bool) -> Keyboard:
    """Like the options: each button shows its current value (the screen says the same); a tap moves it on."""
    languages = tuple(Language)
    next_language = languages[(languages.index(Language(language)) + 1) % len(languages)]
    next_size = SIZES[(SIZES.index(size) + 1) % len(SIZES)] if size in SIZES else SIZES[0]
    output = text("output_file" if as_file else "output_photo", language)
    return (
        (Button(text("set_lang", language, lang_name=text("language_name", language)), f"s:lang:{next_language}"),),
        (Button(text("opt_size", language, size=size), f"s:size:{next_size}"),),
        (Button(text("set_output", language, output=output), f"s:out:{'photo' if as_file else 'file'}"),),
    )


def _start_or_cancel(language: str) -> tuple[Button, ...]:
    return (Button(text("btn_start", language), "o:go"), Button(text("btn_cancel", language), "o:x"))


def _strength(flow: Flow, language: str) -> Button:
    label = text("opt_strength", language, strength=text(f"strength_{flow.strength}", language))
    return Button(label, f"o:str:{NEXT_STRENGTH[flow.strength]}")


def preset_options(flow: Flow, language: str) -> Keyboard:
    return ((_strength(flow, language),), _start_or_cancel(language))


def nst_options(
    flow: Flow, size: int, language: str, qualities: Sequence[Quality] = tuple(Quality), *, best_available: bool = True
) -> Keyboard:
    """Each button shows its current value (the screen says the same); a tap moves it to the next one. Quality
    is a button only where more than one can run; while the budget pauses best quality, the button that would
    move to it says so (a tap tells why)."""
    next_size = SIZES[(SIZES.index(size) + 1) % len(SIZES)]
    colors = "opt_colors_on" if flow.keep_colors else "opt_colors_off"
    second: tuple[Button, ...] = (Button(text(colors, language), f"o:col:{0 if flow.keep_colors else 1}"),)
    if len(qualities) > 1:
        current = flow.quality if flow.quality in qualities else qualities[0]
        following = qualities[(qualities.index(current) + 1) % len(qualities)]
        label = (
            text("opt_quality_paused", language)
            if following == Quality.BEST and not best_available
            else text("opt_quality", language, quality=text(f"quality_{flow.quality}", language))
        )
        second = (*second, Button(label, f"o:q:{following}"))
    return (
        (Button(text("opt_size", language, size=size), f"o:size:{next_size}"), _strength(flow, language)),
        second,
        _start_or_cancel(language),
    )


def result_keyboard(language: str, job_id: str) -> Keyboard:
    """The buttons under a finished picture: they name its job, so they act on that job's photo and options
    however many results came after it."""
    return (
        (
            Button(text("btn_again_style", language), f"r:{AGAIN_STYLE}:{job_id}"),
            Button(text("btn_again_options", language), f"r:{AGAIN_OPTIONS}:{job_id}"),
        ),
    )


def photo_first(language: str, *, presets: bool = True, paintings: bool = False) -> Keyboard:
    """What to do with a photo sent when nothing was awaited (a preset only where one can run)."""
    own: Keyboard = ((Button(text("btn_use_own_style", language), "m:own"),),)
    if paintings:
        own = (*own, (Button(text("btn_paintings", language), PAINTINGS_ACTION),))
    return (*own, (Button(text("btn_apply_preset", language), "m:pst"),)) if presets else own


def progress_keyboard(language: str) -> Keyboard:
    """Cancel, under the job's progress message."""
    return ((Button(text("btn_cancel_job", language), "j:cancel"),),)


def is_screen(keyboard: Keyboard | None) -> bool:
    """Whether a keyboard is the conversation's screen (menu, options, galleries, settings...): the one that a
    newer screen replaces. Not Cancel under a job's progress (its worker keeps it live) nor the buttons bound to a
    job (`r:`, under a result or a preview strip)."""
    return bool(keyboard) and not any(b.action.startswith(("j:", "r:")) for row in keyboard or () for b in row)
