"""The model code behind :mod:`ml.api` (which imports this module, and torch with it, after a job's first
progress report): quick and best own style, and the presets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image

from ml import color, device, imageio
from ml.errors import JobCancelled
from ml.microast import MicroAST, cached_microast, run_microast
from ml.nst import NSTConfig, run_nst
from ml.progress import CancelCheck, Progress, ProgressCallback, Tracker
from ml.vgg import cached_vgg19_features


def stylize(
    content: Image.Image,
    style: Image.Image,
    *,
    quality: str,
    size: int,
    strength: float,
    keep_colors: bool,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    color_method: color.ColorMethod = "luminance",
    config: NSTConfig | None = None,
    quick_min_internal: int = 512,
    mix: Image.Image | None = None,
    mix_share: float = 0.5,
    prior_seconds: float | None = None,
) -> Image.Image:
    """:func:`ml.api.stylize` after its first progress report (arguments checked there); ``prior_seconds``: what
    the job was expected to take (the progress reports' time left blends it with the measured rate)."""
    device.configure_threads()
    content_img = imageio.resize_long_side(content.convert("RGB"), size)
    content_t = imageio.to_tensor(content_img)
    style_t = _style_tensor(style, size, content_t, keep_colors and color_method == "match")
    mix_t = None if mix is None else _style_tensor(mix, size, content_t, keep_colors and color_method == "match")

    if quality == "quick":
        tracker = Tracker(1.0, progress, should_cancel)
        microast = cached_microast()
        if size < quick_min_internal:
            out = _quick_via_larger(
                microast, content, (style, mix, mix_share), content_t, strength, keep_colors, color_method,
                quick_min_internal,
            )  # fmt: skip
        else:
            out = run_microast(microast, content_t, style_t, strength, mix=mix_t, mix_share=mix_share)
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
            warm_start=lambda c, s: run_microast(microast, c, s, strength, mix=mix_t, mix_share=mix_share),
            seed=seed,
            progress=progress,
            should_cancel=should_cancel,
            mix=mix_t,
            mix_share=mix_share,
            prior_seconds=prior_seconds,
        )
        out = result.image
    if keep_colors and color_method == "luminance":
        out = color.keep_colors(out, content_t, "luminance")
    image = imageio.to_image(out)
    if progress is not None:
        progress(Progress(fraction=1.0, eta_seconds=0.0, preview=None))
    return image


def _style_tensor(style: Image.Image, size: int, content_t: torch.Tensor, match: bool) -> torch.Tensor:
    """A style picture at ``size`` px as a tensor; with ``match``, in the photo's colours."""
    style_t = imageio.to_tensor(imageio.resize_long_side(style.convert("RGB"), size))
    return color.match_colors(style_t, content_t) if match else style_t


def _quick_via_larger(
    microast: MicroAST,
    content: Image.Image,
    styles: tuple[Image.Image, Image.Image | None, float],
    content_t: torch.Tensor,
    strength: float,
    keep_colors: bool,
    color_method: color.ColorMethod,
    internal: int,
) -> torch.Tensor:
    """MicroAST at ``internal`` px, scaled down (antialiased) to ``content_t``'s size. ``styles``: the style
    picture, the one mixed in (or None) and its share."""
    style, mix, mix_share = styles
    big_content = imageio.to_tensor(imageio.resize_long_side(content.convert("RGB"), internal))
    match = keep_colors and color_method == "match"
    big_style = _style_tensor(style, internal, big_content, match)
    big_mix = None if mix is None else _style_tensor(mix, internal, big_content, match)
    big = run_microast(microast, big_content, big_style, strength, mix=big_mix, mix_share=mix_share)
    size = tuple(content_t.shape[-2:])
    return F.interpolate(big, size=size, mode="bilinear", align_corners=False, antialias=True).clamp(0.0, 1.0)


def apply_preset(content: Image.Image, preset_id: str, *, strength: float, tracker: Tracker) -> Image.Image:
    """:func:`ml.api.apply_preset` after its first progress report, which ``tracker`` continues."""
    from ml import presets

    device.configure_threads()

    def on_fraction(fraction: float) -> None:
        tracker.advance(fraction - tracker.done)

    image = presets.apply(
        content.convert("RGB"),
        preset_id,
        strength=strength,
        on_progress=on_fraction,
        should_cancel=tracker.should_cancel,
    )
    tracker.report(finished=True)
    return image
