"""The one entry point the bot's worker and the CLI call: :func:`stylize`.

Models are loaded once per process (on first use) and reused across jobs.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from PIL import Image

from ml import color, device, imageio, priors
from ml.errors import JobCancelled
from ml.microast import MicroAST, cached_microast, run_microast
from ml.nst import NSTConfig, run_nst
from ml.progress import CancelCheck, Progress, ProgressCallback, Tracker
from ml.vgg import cached_vgg19_features

__all__ = ["MAX_SIZE", "MIN_SIZE", "JobCancelled", "Progress", "Quality", "apply_preset", "stylize"]

Quality = Literal["quick", "best"]

MIN_SIZE = 64
MAX_SIZE = 2048
#: *quick* stylises at least this large (long side) and scales the result down to the size asked for:
#: MicroAST's 4x-downsampled features show as blocks and a checkerboard below it (ml/README.md shows both).
QUICK_MIN_INTERNAL = 512


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
    color_method: color.ColorMethod = "luminance",
    config: NSTConfig | None = None,
) -> Image.Image:
    """The content photo in the manner of the style picture, ``size`` px on its long side (aspect kept).

    ``quality="quick"``: MicroAST, about a second. ``quality="best"``: Gatys NST warm-started from MicroAST.
    ``strength`` in [0, 1] (0 keeps the photo). ``keep_colors`` keeps the photo's colours (``color_method``:
    ``"luminance"`` transfer or colour ``"match"`` of the style image). ``progress`` receives
    :class:`~ml.progress.Progress` reports; ``should_cancel`` is polled between steps and a ``True`` raises
    :class:`~ml.errors.JobCancelled`. The result is deterministic for a given ``seed``.
    """
    _validate(quality, size, strength)
    device.configure_threads()
    content_img = imageio.resize_long_side(content.convert("RGB"), size)
    style_img = imageio.resize_long_side(style.convert("RGB"), size)
    content_t = imageio.to_tensor(content_img)
    style_t = imageio.to_tensor(style_img)
    if keep_colors and color_method == "match":
        style_t = color.match_colors(style_t, content_t)

    # The first progress report comes before any heavy work (loading weights included), with the prior's ETA.
    if should_cancel is not None and should_cancel():
        raise JobCancelled("the job was cancelled")
    if progress is not None:
        progress(Progress(fraction=0.0, eta_seconds=priors.expected_seconds(quality, size)))
    if quality == "quick":
        tracker = Tracker(1.0, progress, should_cancel)
        microast = cached_microast()
        if size < QUICK_MIN_INTERNAL:
            out = _quick_via_larger(microast, content, style, content_t, strength, keep_colors, color_method)
        else:
            out = run_microast(microast, content_t, style_t, strength)
        tracker.check_cancel()
    else:
        microast = cached_microast()
        if should_cancel is not None and should_cancel():  # a check between loads (the caller beats on it)
            raise JobCancelled("the job was cancelled")
        vgg = cached_vgg19_features()
        result = run_nst(
            vgg,
            content_t,
            style_t,
            strength=strength,
            config=config,
            warm_start=lambda c, s: run_microast(microast, c, s, strength),
            seed=seed,
            progress=progress,
            should_cancel=should_cancel,
        )
        out = result.image
    if keep_colors and color_method == "luminance":
        out = color.keep_colors(out, content_t, "luminance")
    image = imageio.to_image(out)
    if progress is not None:
        progress(Progress(fraction=1.0, eta_seconds=0.0, preview=None))
    return image


def _quick_via_larger(
    microast: MicroAST,
    content: Image.Image,
    style: Image.Image,
    content_t: torch.Tensor,
    strength: float,
    keep_colors: bool,
    color_method: color.ColorMethod,
) -> torch.Tensor:
    """MicroAST at :data:`QUICK_MIN_INTERNAL` px, scaled down (antialiased) to ``content_t``'s size."""
    big_content = imageio.to_tensor(imageio.resize_long_side(content.convert("RGB"), QUICK_MIN_INTERNAL))
    big_style = imageio.to_tensor(imageio.resize_long_side(style.convert("RGB"), QUICK_MIN_INTERNAL))
    if keep_colors and color_method == "match":
        big_style = color.match_colors(big_style, big_content)
    big = run_microast(microast, big_content, big_style, strength)
    size = tuple(content_t.shape[-2:])
    return F.interpolate(big, size=size, mode="bilinear", align_corners=False, antialias=True).clamp(0.0, 1.0)


def apply_preset(
    content: Image.Image,
    preset_id: str,
    *,
    strength: float = 1.0,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> Image.Image:
    """The photo restyled by the preset ``preset_id`` (see :mod:`ml.presets`), at the photo's own size.

    ``strength`` in [0, 1] blends the result with the photo (0 keeps it). Large photos are processed in
    seamless overlapping tiles. ``progress`` receives :class:`~ml.progress.Progress` reports (one per tile on
    large photos); ``should_cancel`` is polled between tiles and a ``True`` raises
    :class:`~ml.errors.JobCancelled`. Unknown or switched-off ids raise :class:`ml.registry.UnknownPreset`.
    """
    from ml import presets, registry

    device.configure_threads()
    tracker = Tracker(1.0, progress, should_cancel)
    tracker.check_cancel()
    if progress is not None:  # before the generator is loaded, with the prior's ETA
        preset = registry.get_preset(preset_id)
        eta = priors.expected_seconds("preset", max(content.size), architecture=preset.architecture)
        progress(Progress(fraction=0.0, eta_seconds=eta))

    def on_fraction(fraction: float) -> None:
        tracker.advance(fraction - tracker.done)

    image = presets.apply(
        content.convert("RGB"),
        preset_id,
        strength=strength,
        on_progress=on_fraction,
        should_cancel=should_cancel,
    )
    tracker.report(finished=True)
    return image
