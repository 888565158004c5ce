"""The one entry point the bot's worker and the CLI call: :func:`stylize` (and :func:`apply_preset`).

This module does not import torch: importing it is quick, and each call sends its first progress report (0 %, with
the prior's time left) before the model code and torch are imported (:mod:`ml.engine`, once per process) and
before any weights are read. A worker's first progress edit then waits for neither; ``preload()`` imports the
engine at once, for a caller that would rather pay for it earlier. Models are loaded once per process (on first
use) and reused across jobs.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from PIL import Image

from ml import priors
from ml.errors import JobCancelled
from ml.progress import CancelCheck, Progress, ProgressCallback, Tracker

if TYPE_CHECKING:
    from types import ModuleType

    from ml.color import ColorMethod
    from ml.nst import NSTConfig

__all__ = [
    "MAX_SIZE",
    "MIN_SIZE",
    "JobCancelled",
    "Progress",
    "Quality",
    "apply_preset",
    "engine_loaded",
    "expected_seconds",
    "preload",
    "preview_strip",
    "stylize",
]

Quality = Literal["quick", "best"]

MIN_SIZE = 64
MAX_SIZE = 2048
#: *quick* stylises at least this large (long side) and scales the result down to the size asked for:
#: MicroAST's 4x-downsampled features show as blocks and a checkerboard below it (ml/README.md shows both).
QUICK_MIN_INTERNAL = 512


def preload() -> ModuleType:
    """Import the model code and torch now (the first job does it otherwise, after its first report).

    The cyclic garbage collector is paused meanwhile: torch's import makes hundreds of thousands of objects, and
    in a worker whose Bot API and AWS clients are already loaded every collection it triggers walks those too.
    """
    if "ml.engine" not in sys.modules:
        paused = gc.isenabled()
        gc.disable()
        try:
            importlib.import_module("ml.engine")
        finally:
            if paused:
                gc.enable()
    return sys.modules["ml.engine"]


def _validate(quality: str, size: int, strength: float) -> None:
    if quality not in ("quick", "best"):
        raise ValueError(f"quality must be 'quick' or 'best', not {quality!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} px, not {size}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, not {strength}")


def stylize(
    content: Image.Image,
    style: Image.Image,
    *,
    quality: Quality,
    size: int,
    strength: float,
    keep_colors: bool,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    color_method: ColorMethod = "luminance",
    config: NSTConfig | None = None,
    mix: Image.Image | None = None,
    mix_share: float = 0.5,
    pace: float = 1.0,
) -> Image.Image:
    """The content photo in the manner of the style picture, ``size`` px on its long side (aspect kept).

    ``quality="quick"``: MicroAST, about a second. ``quality="best"``: Gatys NST warm-started from MicroAST.
    ``strength`` in [0, 1] (0 keeps the photo). ``keep_colors`` keeps the photo's colours (``color_method``:
    ``"luminance"`` transfer or colour ``"match"`` of the style image). ``progress`` receives
    :class:`~ml.progress.Progress` reports; ``should_cancel`` is polled between steps and a ``True`` raises
    :class:`~ml.errors.JobCancelled`. The result is deterministic for a given ``seed``.

    ``mix``: a second style picture mixed with the first, ``mix_share`` in [0, 1] of it (0.3: 70/30). Quick
    mixes the two pictures' style signals in MicroAST; best mixes their Gram targets (and warm-starts from the
    quick mix).

    ``pace``: how much longer than :mod:`ml.priors` expects jobs take here (learned by the caller from recent
    jobs; 1.0: as the priors say); it scales the time left the progress reports start from.
    """
    _validate(quality, size, strength)
    if not 0.0 <= mix_share <= 1.0:
        raise ValueError(f"mix_share must be between 0 and 1, not {mix_share}")
    # The first progress report comes before any heavy work (importing torch and loading weights included), with
    # the prior's ETA; the engine blends the same prior with the rate it measures.
    if should_cancel is not None and should_cancel():
        raise JobCancelled("the job was cancelled")
    prior = expected_seconds(content, quality=quality, size=size) * pace
    if progress is not None:
        progress(Progress(fraction=0.0, eta_seconds=prior + _loading_seconds()))
    engine = preload()
    # A check after the import (which takes seconds on a cold worker): the caller's check is also its heartbeat.
    if should_cancel is not None and should_cancel():
        raise JobCancelled("the job was cancelled")
    return engine.stylize(
        content,
        style,
        quality=quality,
        size=size,
        strength=strength,
        keep_colors=keep_colors,
        seed=seed,
        progress=progress,
        should_cancel=should_cancel,
        color_method=color_method,
        config=config,
        quick_min_internal=QUICK_MIN_INTERNAL,
        mix=mix,
        mix_share=mix_share,
        prior_seconds=prior,
    )


def expected_seconds(
    content: Image.Image, *, quality: Quality | None = None, size: int | None = None, preset_id: str | None = None
) -> float:
    """What :mod:`ml.priors` expects the model work of a job on ``content`` to take on this machine, seconds:
    :func:`stylize` at ``quality`` and ``size``, or :func:`apply_preset` of ``preset_id`` (at the photo's size)."""
    if preset_id is not None:
        from ml import registry

        architecture = registry.get_preset(preset_id).architecture
        return priors.expected_seconds("preset", max(content.size), architecture=architecture, aspect=_aspect(content))
    if quality is None or size is None:
        raise ValueError("a prior needs a quality and a size, or a preset")
    return priors.expected_seconds(quality, size, aspect=_aspect(content))


def engine_loaded() -> bool:
    """Whether the model code and torch are imported in this process (a job's time then is the model's alone)."""
    return "ml.engine" in sys.modules


def _aspect(image: Image.Image) -> float:
    return max(image.size) / max(1, min(image.size))


def _loading_seconds() -> float:
    """What is left of a worker's start before the model runs: importing the engine (and torch), unless done."""
    return 0.0 if engine_loaded() else priors.ENGINE_LOAD_SECONDS


def preview_strip(
    content: Image.Image,
    style: Image.Image,
    *,
    strengths: Sequence[float],
    labels: Sequence[str],
    keep_colors: bool = False,
    mix: Image.Image | None = None,
    mix_share: float = 0.5,
) -> Image.Image:
    """The photo at each of ``strengths`` (in [0, 1]) side by side, each panel labelled, at most 768 px wide:
    quick quality (MicroAST), in about a second. ``mix``/``mix_share`` as for :func:`stylize`."""
    if not strengths or len(labels) != len(strengths) or not all(0.0 <= s <= 1.0 for s in strengths):
        raise ValueError("one label a strength, each strength between 0 and 1")
    preload()
    from ml import preview_strip as strip

    return strip.render(
        content, style, strengths=strengths, labels=labels, keep_colors=keep_colors, mix=mix, mix_share=mix_share,
        internal=QUICK_MIN_INTERNAL,
    )  # fmt: skip


def apply_preset(
    content: Image.Image,
    preset_id: str,
    *,
    strength: float = 1.0,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    pace: float = 1.0,
) -> Image.Image:
    """The photo restyled by the preset ``preset_id`` (see :mod:`ml.presets`), at the photo's own size.

    ``strength`` in [0, 1] blends the result with the photo (0 keeps it). Large photos are processed in
    seamless overlapping tiles. ``progress`` receives :class:`~ml.progress.Progress` reports (one per tile on
    large photos); ``should_cancel`` is polled between tiles and a ``True`` raises
    :class:`~ml.errors.JobCancelled`. Unknown or switched-off ids raise :class:`ml.registry.UnknownPreset`.
    ``pace`` as for :func:`stylize`.
    """
    if should_cancel is not None and should_cancel():
        raise JobCancelled("the job was cancelled")
    prior = expected_seconds(content, preset_id=preset_id) * pace + _loading_seconds()
    # Before torch is imported and the generator loaded, with the prior's ETA (which the tracker blends on with
    # the rate it measures, the import included).
    tracker = Tracker(1.0, progress, should_cancel, prior_seconds=prior)
    if progress is not None:
        progress(Progress(fraction=0.0, eta_seconds=prior))
    engine = preload()
    tracker.check_cancel()  # after the import, which takes seconds on a cold worker (the check is its heartbeat)
    return engine.apply_preset(content, preset_id, strength=strength, tracker=tracker)
