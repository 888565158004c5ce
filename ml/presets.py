"""Preset styles: the registry of pretrained generators, their gallery previews, and applying one to a photo.

Adding a preset is one `Preset` entry in `PRESETS` plus one entry (its weights file) in `ml/manifest.json`;
its preview is rendered from the bundled public-domain photo by `python -m ml presets previews`.

Presets whose weights are licensed for non-commercial use only (`commercial_use=False`) are listed unless the
operator sets ``STYLEBOT_PRESETS_NONCOMMERCIAL=0``; then they are neither offered, applied, fetched nor
previewed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from ml import fastconv, weights
from ml.animeganv2 import AnimeGANv2Generator
from ml.cyclegan import CycleGANGenerator
from ml.device import compute_dtype
from ml.errors import JobCancelled, WeightsError
from ml.imageio import encode_jpeg, resize_long_side, to_image, to_tensor
from ml.norms import shared_statistics
from ml.paths import previews_dir
from ml.registry import (
    Preset,
    available,
    get_preset,
)
from ml.tiling import run_padded, run_tiled

GeneratorModule = CycleGANGenerator | AnimeGANv2Generator

#: Architecture name (as the registry spells it) -> generator class.
ARCHITECTURES: dict[str, type[GeneratorModule]] = {
    "cyclegan_resnet9": CycleGANGenerator,
    "animeganv2": AnimeGANv2Generator,
}

PREVIEW_SOURCE = weights.PACKAGE_DIR / "assets" / "presets" / "preview_source.jpg"
PREVIEW_SIDE = 384
PREVIEW_QUALITY = 88  # JPEG quality of every gallery preview (presets and paintings alike)
PREVIEWS_COMMAND = "python -m ml presets previews"


# ---------------------------------------------------------------------------------------------- gallery


@dataclass(frozen=True)
class GalleryItem:
    """What a gallery shows for one preset."""

    id: str
    name: str
    preview: Path

    def preview_bytes(self) -> bytes:
        return read_preview(self.preview, self.id)


def preview_path(preset_id: str) -> Path:
    """Where the preview JPEG of `preset_id` is (it exists once `render_previews` has run)."""
    return previews_dir() / f"{get_preset(preset_id).id}.jpg"


def read_preview(path: Path, preset_id: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"no preview for preset {preset_id!r} at {path}; run `{PREVIEWS_COMMAND}`") from exc


def preview_bytes(preset_id: str) -> bytes:
    """The preview JPEG of `preset_id`; `WeightsError` naming the fix if it was never rendered."""
    return read_preview(preview_path(preset_id), preset_id)


def gallery(language: str, *, include_noncommercial: bool | None = None) -> list[GalleryItem]:
    """The available presets as (id, localized name, preview path), in gallery order."""
    return [
        GalleryItem(p.id, p.name(language), preview_path(p.id))
        for p in available(include_noncommercial=include_noncommercial)
    ]


def render_previews(
    preset_ids: Iterable[str] | None = None,
    *,
    side: int = PREVIEW_SIDE,
    source: Path = PREVIEW_SOURCE,
    report: Callable[[str], None] | None = None,
) -> list[Path]:
    """Style the bundled sample photo with each preset and save `preview_path(id)` (JPEG, `side` px)."""
    ids = list(preset_ids) if preset_ids is not None else [p.id for p in available()]
    photo = resize_long_side(Image.open(source).convert("RGB"), side)
    out_dir = previews_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for preset_id in ids:
        path = preview_path(preset_id)
        styled = apply(photo, preset_id)
        tmp = path.with_suffix(".jpg.part")
        tmp.write_bytes(encode_jpeg(styled, quality=PREVIEW_QUALITY))
        os.replace(tmp, path)
        if report is not None:
            report(f"{preset_id}: preview {path}")
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Tiling:
    """When and how to tile.

    Photos of up to `max_untiled_pixels` run in one pass. Larger ones run in `tile`-px tiles overlapping by at
    least `overlap`, all normalised with the statistics of one pass over the photo downscaled to at most
    `stats_pixels` (by default the untiled limit: the largest single pass, so no pass needs more memory than
    an untiled photo; the closer to full size, the closer the tiled result is to an untiled one).
    """

    max_untiled_pixels: int = 1_700_000
    tile: int = 1024
    overlap: int = 160
    stats_pixels: int = 1_700_000


@dataclass
class LoadedGenerator:
    """A generator with its weights, in eval mode, in the layout and precision it runs in."""

    model: GeneratorModule
    device: torch.device
    dtype: torch.dtype
    channels_last: bool
    nnpack: bool = False

    def __call__(self, rgb01: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) RGB in [0, 1], any size -> the styled image, same size, float32 in [0, 1]."""
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        x = self.model.to_input(rgb01.to(self.device, torch.float32))
        x = x.to(dtype=self.dtype, memory_format=fmt)
        y = run_padded(self.model, x, self.model.size_multiple)
        return self.model.to_rgb01(y.float()).cpu()


def build_generator(
    architecture: str,
    state_dict: Mapping[str, torch.Tensor],
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    channels_last: bool = True,
    nnpack: bool | None = False,
) -> LoadedGenerator:
    """Instantiate `architecture`, load `state_dict` strictly (official checkpoint layout) and prepare it.

    `nnpack`: float32 convolutions through NNPACK (`ml.fastconv`; contiguous layout then); None: where that is
    faster (`fastconv.nnpack_wanted`).
    """
    cls = ARCHITECTURES[architecture]
    model = cls()
    model.load_state_dict(cls.adapt_state_dict(state_dict), strict=True)
    model.eval().requires_grad_(False)
    use_nnpack = dtype == torch.float32 and torch.device(device).type == "cpu" and fastconv.nnpack_ready()
    use_nnpack = use_nnpack and (fastconv.nnpack_wanted() if nnpack is None else nnpack)
    channels_last = channels_last and not use_nnpack
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(device=device, dtype=dtype)
    model.to(memory_format=fmt)
    if use_nnpack:
        fastconv.use_fast_convs(model)
        fastconv.transposed_channels_last(model)
    return LoadedGenerator(model, torch.device(device), dtype, channels_last, use_nnpack)


_loaded: dict[tuple[object, ...], LoadedGenerator] = {}


def load_generator(
    preset: Preset | str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    channels_last: bool = True,
) -> LoadedGenerator:
    """The preset's generator, loaded once per process (per weights file, device and precision) and reused.

    `dtype=None`: bfloat16 where the CPU computes it natively, else float32 (`ml.device.compute_dtype`).
    """
    p = preset if isinstance(preset, Preset) else get_preset(preset)
    chosen = dtype if dtype is not None else compute_dtype()
    path = weights.resolve(p.weights)
    stat = path.stat()
    key = (p.architecture, str(path), stat.st_size, stat.st_mtime_ns, str(device), chosen, channels_last)
    if key not in _loaded:
        state = weights.load_state_dict(p.weights)
        _loaded[key] = build_generator(
            p.architecture, state, device=device, dtype=chosen, channels_last=channels_last, nnpack=None
        )
    return _loaded[key]


def _downscale(image: torch.Tensor, max_pixels: int) -> torch.Tensor:
    h, w = image.shape[-2:]
    if h * w <= max_pixels:
        return image
    scale = (max_pixels / (h * w)) ** 0.5
    size = (max(16, int(h * scale)), max(16, int(w * scale)))
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False).clamp_(0, 1)


def run_generator(
    gen: LoadedGenerator,
    image: torch.Tensor,
    *,
    tiling: Tiling = Tiling(),  # frozen dataclass: a safe default
    on_step: Callable[[int, int], None] | None = None,
    disagreement: list[float] | None = None,
) -> torch.Tensor:
    """Style a (1, 3, H, W) float image in [0, 1]; tiles above `tiling.max_untiled_pixels`.

    `on_step(done, total)` runs after each pass (the whole image, or the statistics pass and each tile);
    `disagreement` collects the seam amplitudes of `ml.tiling.run_tiled`.
    """
    h, w = image.shape[-2:]
    with torch.inference_mode():
        if h * w <= tiling.max_untiled_pixels:
            out = gen(image)
            if on_step is not None:
                on_step(1, 1)
            return out
        with shared_statistics(gen.model):
            gen(_downscale(image, tiling.stats_pixels))  # records every norm layer's statistics
            return run_tiled(
                gen,
                image,
                tile=tiling.tile,
                overlap=tiling.overlap,
                align=gen.model.size_multiple,
                on_tile=on_step,
                disagreement=disagreement,
            )


def apply(
    image: Image.Image,
    preset_id: str,
    *,
    strength: float = 1.0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    tiling: Tiling = Tiling(),  # frozen dataclass: a safe default
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Image.Image:
    """The photo restyled by the preset, at its own size; `strength` in [0, 1] blends with the original.

    `on_progress(fraction)` reports 0..1; `should_cancel()` true stops the work with `JobCancelled`.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be within [0, 1], not {strength}")
    gen = load_generator(preset_id, device=device, dtype=dtype)
    return apply_generator(
        gen, image, strength=strength, tiling=tiling, on_progress=on_progress, should_cancel=should_cancel
    )


def apply_generator(
    gen: LoadedGenerator,
    image: Image.Image,
    *,
    strength: float = 1.0,
    tiling: Tiling = Tiling(),  # frozen dataclass: a safe default
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    disagreement: list[float] | None = None,
) -> Image.Image:
    """`apply` with a loaded generator: photo in, styled photo out (the benchmark measures this path)."""

    def step(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(done / total)
        if should_cancel is not None and done < total and should_cancel():
            raise JobCancelled("cancelled")

    if should_cancel is not None and should_cancel():
        raise JobCancelled("cancelled")
    original = to_tensor(image)
    styled = run_generator(gen, original, tiling=tiling, on_step=step, disagreement=disagreement)
    if strength < 1.0:
        with torch.inference_mode():
            styled.mul_(strength).add_(original, alpha=1.0 - strength)
    del original
    return to_image(styled)
