"""Gatys et al. neural style transfer on VGG19 features, made fast for CPUs.

The objective is the classic one: Gram-matrix style losses on relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1
plus a content loss on relu4_2, optimised over the pixels with L-BFGS. Each term is a *relative* squared error
(``||G - A||² / ||A||²``), so the weights mean the same at every resolution and for any VGG weights.

Speed-ups (each can be switched off in :class:`NSTConfig`, and ``python -m ml.bench`` measures them):

* coarse-to-fine pyramid in steps of sqrt(2): most L-BFGS evaluations run below the final size (a finer
  pyramid than the usual factor of 2, because what a level learns carries to the next better: at 512 px the
  final level starts at a loss of 0.33 instead of 0.45);
* warm start from the MicroAST result (the *quick* quality), whose fine detail is carried into each finer
  level (a Laplacian-style detail transfer) instead of being blurred away by upsampling;
* the best iterate of every level is kept, not the last one;
* channels_last memory layout, and bfloat16 autocast for the convolutions and the Gram products only where the
  CPU has native bf16 (products accumulate in fp32; losses, targets and L-BFGS state stay in fp32);
* a short L-BFGS history (20 pairs): longer ones cost time per step and gained nothing measurable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ml import device, fastconv
from ml.imageio import to_image
from ml.progress import CancelCheck, ProgressCallback, Tracker
from ml.vgg import VGG19Features

STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"
#: By default the fp32 path goes through NNPACK (:mod:`ml.fastconv`) only for results of at least this many pixels.
NNPACK_MIN_PIXELS = 150_000
#: Weight of the (mean relative) style loss at strength 1; the content loss has weight 1.
STYLE_WEIGHT = 10.0


@dataclass(frozen=True)
class NSTConfig:
    """How to optimise. ``evals`` gives the L-BFGS evaluations per pyramid level, coarsest first; the
    levels are the final size divided by ``level_scale**k`` (levels whose short side would fall below
    ``min_level_side`` are dropped, with their evaluations). ``bf16=None`` uses bf16 where the CPU has it
    natively.

    The default spends about 70 full-size evaluations' worth of work: 50 at the final size, 20 at 1/sqrt(2),
    30 at 1/2 and 20 at 1/(2 sqrt(2)) of it; what a coarse level achieves is partly undone by upsampling, so
    the final level gets most (``python -m ml.bench`` compares it with the textbook recipe).
    """

    evals: tuple[int, ...] = (20, 30, 20, 50)
    warm_start: bool = True
    detail_transfer: bool = True
    keep_best: bool = True
    channels_last: bool = True
    bf16: bool | None = None
    history_size: int = 20
    init_noise: float = 0.0
    min_level_side: int = 64
    level_scale: float = math.sqrt(2.0)
    #: fp32 convolutions through NNPACK (Winograd/FFT; see :mod:`ml.fastconv`); None: where it is faster.
    nnpack: bool | None = None

    @staticmethod
    def naive(evals: int = 300) -> NSTConfig:
        """The textbook recipe: one level at full size, fp32, from the content image, last iterate."""
        return NSTConfig(
            evals=(evals,),
            warm_start=False,
            detail_transfer=False,
            keep_best=False,
            bf16=False,
            history_size=100,
            nnpack=False,
        )


@dataclass
class NSTResult:
    image: torch.Tensor
    loss: float
    evaluations: int
    dtype: torch.dtype
    seconds: float
    #: Whether the convolutions ran through NNPACK (:mod:`ml.fastconv`).
    nnpack: bool = False
    level_sizes: list[tuple[int, int]] = field(default_factory=list)
    level_losses: list[float] = field(default_factory=list)
    #: The loss of every evaluation, in order (each level's at its own size).
    history: list[float] = field(default_factory=list)
    #: Seconds from the start of :func:`run_nst` to the end of every evaluation (the time side of ``history``).
    times: list[float] = field(default_factory=list)
    #: The same in CPU seconds of this process (all threads; what other jobs on the machine do not inflate).
    cpu_times: list[float] = field(default_factory=list)


def resize(img: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(img.shape[-2:]) == size:
        return img
    return F.interpolate(img, size=size, mode="bilinear", align_corners=False, antialias=True)


def gram(feat: torch.Tensor) -> torch.Tensor:
    """Gram matrix of (1, C, H, W) features, averaged over positions, as fp32.

    The product runs in the features' dtype: bf16 features (from the bf16 path) multiply in bf16 with fp32
    accumulation, about 7% faster per evaluation than converting them, at the same final loss (measured).
    """
    c = feat.shape[1]
    flat = feat.reshape(c, -1)
    if flat.dtype != torch.bfloat16:
        flat = flat.float()
    return (flat @ flat.T).float() / flat.shape[1]


class Objective:
    """The NST loss of an image of one size against fixed content and style targets.

    ``dtype`` is the compute dtype of the VGG convolutions (fp32 or bf16 autocast); targets and losses are
    fp32. ``mix``: a second style picture; each layer's style target is then the mix of the two pictures' Gram
    matrices, ``mix_share`` of it the second's.
    """

    def __init__(
        self,
        vgg: VGG19Features,
        content: torch.Tensor,
        style: torch.Tensor,
        *,
        style_weight: float,
        content_weight: float = 1.0,
        dtype: torch.dtype = torch.float32,
        channels_last: bool = True,
        mix: torch.Tensor | None = None,
        mix_share: float = 0.5,
    ) -> None:
        self.vgg = vgg
        self.dtype = dtype
        self.channels_last = channels_last
        self.style_weight = style_weight
        self.content_weight = content_weight
        with torch.no_grad():
            content_feats = self._features(content, (CONTENT_LAYER,))
            style_feats = self._features(style, STYLE_LAYERS)
        self.content_target = content_feats[CONTENT_LAYER].float()
        self.content_norm = self.content_target.pow(2).sum().clamp_min(1e-12)
        self.style_targets = {name: gram(style_feats[name]) for name in STYLE_LAYERS}
        if mix is not None:
            with torch.no_grad():
                mix_feats = self._features(mix, STYLE_LAYERS)
            for name in STYLE_LAYERS:
                self.style_targets[name] = torch.lerp(self.style_targets[name], gram(mix_feats[name]), mix_share)
        self.style_norms = {name: g.pow(2).sum().clamp_min(1e-12) for name, g in self.style_targets.items()}

    def _features(self, img: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        if self.channels_last:
            img = img.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.dtype == torch.bfloat16):
            return self.vgg(img, taps)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        feats = self._features(img, (*STYLE_LAYERS, CONTENT_LAYER))
        content_loss = (feats[CONTENT_LAYER].float() - self.content_target).pow(2).sum() / self.content_norm
        style_loss = sum(
            ((gram(feats[name]) - self.style_targets[name]).pow(2).sum() / self.style_norms[name])
            for name in STYLE_LAYERS
        )
        total: torch.Tensor = self.content_weight * content_loss + self.style_weight * style_loss / len(STYLE_LAYERS)
        return total


def prepare_vgg(vgg: VGG19Features, channels_last: bool) -> VGG19Features:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return vgg.to(memory_format=fmt)


def level_sizes(height: int, width: int, levels: int, min_side: int, ratio: float = 2.0) -> list[tuple[int, int]]:
    """Sizes of the pyramid, coarsest first, each ``ratio`` times the one before, ending at (height, width);
    levels with a side below ``min_side`` are dropped."""
    sizes: list[tuple[int, int]] = []
    for k in range(levels - 1, -1, -1):
        scale = ratio**-k
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
        if k == 0 or min(h, w) >= min_side:
            sizes.append((h, w))
    return sizes


def evaluate_loss(objective: Objective, img: torch.Tensor) -> float:
    with torch.no_grad():
        return float(objective(img))


def run_nst(
    vgg: VGG19Features,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    strength: float = 1.0,
    config: NSTConfig | None = None,
    warm_start: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    tracker: Tracker | None = None,
    mix: torch.Tensor | None = None,
    mix_share: float = 0.5,
    prior_seconds: float | None = None,
) -> NSTResult:
    """Stylise ``content`` (1, 3, H, W in [0, 1], already at the output size) with ``style``.

    ``warm_start(content, style)`` gives the starting image at full size (the MicroAST result); without it
    (or with ``config.warm_start=False``) optimisation starts from the content image. ``progress`` is called
    after every L-BFGS evaluation (with a preview at the end of each level); ``should_cancel`` is checked
    before every evaluation and stops the job with :class:`~ml.errors.JobCancelled`; the reports' time left
    blends ``prior_seconds`` (what the run was expected to take, :mod:`ml.priors`) with the measured rate. Same
    inputs and seed, same result. ``mix``: a second style picture, ``mix_share`` of the Gram targets
    (:class:`Objective`).
    """
    cfg = config or NSTConfig()
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], not {strength}")
    started = time.perf_counter()
    cpu_started = time.process_time()
    dtype = device.compute_dtype(cfg.bf16)
    nnpack = dtype == torch.float32 and fastconv.nnpack_ready()
    # NNPACK pays for large images only: at 256 px best quality measured 40 s with it, 33 s with oneDNN in
    # channels_last (at 512 px: 122-129 s with it, 143 s without).
    wanted = fastconv.nnpack_wanted() and content.shape[-1] * content.shape[-2] >= NNPACK_MIN_PIXELS
    nnpack = nnpack and (wanted if cfg.nnpack is None else cfg.nnpack)
    channels_last = cfg.channels_last and not nnpack  # NNPACK works on contiguous NCHW tensors
    vgg = prepare_vgg(vgg, channels_last)
    height, width = content.shape[-2:]
    sizes = level_sizes(height, width, len(cfg.evals), cfg.min_level_side, cfg.level_scale)
    evals = list(cfg.evals[len(cfg.evals) - len(sizes) :])
    units = [n * h * w for n, (h, w) in zip(evals, sizes, strict=True)]
    track = tracker or Tracker(sum(units), progress, should_cancel, prior_seconds=prior_seconds)
    track.check_cancel()

    generator = torch.Generator().manual_seed(seed)
    warm: torch.Tensor | None = None
    if cfg.warm_start and warm_start is not None:
        with torch.no_grad():
            warm = warm_start(content, style).float()
        track.check_cancel()  # the caller's check is also its heartbeat: one between every step that takes time
    style_scale = max(style.shape[-2:]) / max(height, width)

    x: torch.Tensor | None = None
    prev_size: tuple[int, int] | None = None
    result = NSTResult(image=content, loss=math.inf, evaluations=0, dtype=dtype, seconds=0.0, nnpack=nnpack)
    with fastconv.fast_convs(vgg, nnpack):
        for (h, w), n_evals in zip(sizes, evals, strict=True):
            content_l = resize(content, (h, w))
            long_side = max(1, round(max(h, w) * style_scale))
            style_l = resize(style, _fit(style.shape[-2:], long_side))
            mix_l = None if mix is None else resize(mix, _fit(mix.shape[-2:], long_side))
            objective = Objective(vgg, content_l, style_l, style_weight=STYLE_WEIGHT * strength, dtype=dtype,
                                  channels_last=channels_last, mix=mix_l, mix_share=mix_share)  # fmt: skip
            track.check_cancel()  # after the targets' forward passes (the first ones also set up the kernels)
            with torch.no_grad():
                if x is None:
                    start = resize(warm, (h, w)) if warm is not None else content_l.clone()
                    if cfg.init_noise > 0:
                        start = start + cfg.init_noise * torch.randn(start.shape, generator=generator)
                else:
                    start = resize(x, (h, w))
                    if warm is not None and cfg.detail_transfer and prev_size is not None:
                        warm_l = resize(warm, (h, w))
                        start = start + warm_l - resize(resize(warm, prev_size), (h, w))
            x, loss, used = _optimise(objective, start, n_evals, cfg, track, h * w, result, (started, cpu_started))
            result.evaluations += used
            result.level_sizes.append((h, w))
            result.level_losses.append(loss)
            prev_size = (h, w)
            track.report(preview=to_image(x.clamp(0, 1)) if progress is not None else None)
            del objective
    assert x is not None
    result.image = x.clamp(0.0, 1.0)
    result.loss = result.level_losses[-1]
    result.seconds = time.perf_counter() - started
    return result


def _fit(shape: Sequence[int], long_side: int) -> tuple[int, int]:
    h, w = int(shape[0]), int(shape[1])
    scale = long_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def _optimise(
    objective: Objective,
    start: torch.Tensor,
    n_evals: int,
    cfg: NSTConfig,
    track: Tracker,
    units_per_eval: int,
    result: NSTResult,
    started: tuple[float, float],
) -> tuple[torch.Tensor, float, int]:
    """L-BFGS for ``n_evals`` evaluations; the best (or last) iterate and its loss."""
    x = start.detach().clone().contiguous().requires_grad_(True)
    optimiser = torch.optim.LBFGS(
        [x],
        lr=1.0,
        max_iter=n_evals,
        max_eval=n_evals,
        history_size=cfg.history_size,
        tolerance_grad=0.0,
        tolerance_change=0.0,
        line_search_fn=None,
    )
    best_loss = math.inf
    best = x.detach().clone()
    last_loss = math.inf
    count = 0

    def closure() -> torch.Tensor:
        nonlocal best_loss, best, last_loss, count
        track.check_cancel()
        optimiser.zero_grad(set_to_none=False)
        loss = objective(x)
        loss.backward()
        value = float(loss.detach())
        count += 1
        last_loss = value
        result.history.append(value)
        result.times.append(time.perf_counter() - started[0])
        result.cpu_times.append(time.process_time() - started[1])
        if math.isfinite(value) and value < best_loss:
            best_loss = value
            best = x.detach().clone()
        track.advance(units_per_eval)
        return loss

    while count < n_evals:
        before = count
        optimiser.step(closure)
        if count == before:  # converged: L-BFGS made no evaluation
            break
    if cfg.keep_best:
        return best, best_loss, count
    final = x.detach().clone()
    return final, last_loss, count
