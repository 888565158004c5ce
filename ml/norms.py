"""Normalisation layers whose statistics can be shared between tiles.

InstanceNorm (CycleGAN) and single-group GroupNorm (AnimeGANv2) normalise with statistics of the whole feature
map. Run on tiles, every tile would get its own statistics, and tile borders would show as seams. These layers
compute exactly what the torch ones compute by default; inside `shared_statistics` the first pass (over the
whole, possibly downscaled, image) records the statistics and the later passes (the tiles) reuse them.

All three modes go through `F.batch_norm`'s kernels, which keep channels_last and bfloat16 tensors as they are
(torch's instance norm copies them to contiguous float layouts, several times slower on CPU). Layers made with
``inplace=True`` normalise a large float32 input in place when no gradient is recorded (the generators use it:
each norm follows a convolution whose output nothing else holds), so a large feature map is not held twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-5
#: In-place normalisation from this many elements (64 MB in float32) on: there it saves a copy of the map and is
#: faster too (measured on a 2-core AVX2 EPYC, a 32 x 1132 x 1508 map: statistics 0.13 s + in-place affine
#: 0.06 s against 0.25 s for `F.group_norm` and 0.38 s for `F.batch_norm`); below, torch's fused kernels are faster
#: (at 512 px, 32 x 384 x 512: `F.group_norm` 9 ms against 32 ms), and a 512 px photo's maps stay there.
INPLACE_MIN_ELEMENTS = 2**24


class _StatNorm(nn.Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
        self.recording = False
        self.frozen: tuple[torch.Tensor, torch.Tensor] | None = None

    def _in_place(self, x: torch.Tensor) -> bool:
        return (
            self.inplace
            and x.dtype == torch.float32
            and x.numel() >= INPLACE_MIN_ELEMENTS
            and not (torch.is_grad_enabled() and x.requires_grad)
        )


def _batch_stats(x: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased variance per channel of a (1, channels, ...) tensor, in float32 (nothing image-sized is
    allocated: batch_norm's statistics kernel alone)."""
    mean = torch.zeros(channels, dtype=torch.float32, device=x.device)
    var = torch.ones(channels, dtype=torch.float32, device=x.device)
    # Momentum 1: the buffers become this batch's statistics.
    torch.batch_norm_update_stats(x, mean, var, 1.0)
    n = x.numel() // channels
    return mean, var * ((n - 1) / n if n > 1 else 1.0)  # the buffer holds the unbiased variance


def _normalize_(
    x: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """``F.batch_norm(x, mean, var, weight, bias, False, 0, EPS)`` computed in place in ``x``: as torch's CPU
    kernel computes it, ``x * alpha + beta`` per channel, with ``alpha = weight / sqrt(var + eps)`` and
    ``beta = bias - mean * alpha``."""
    alpha = torch.rsqrt(var + EPS)
    if weight is not None:
        alpha = alpha * weight
    beta = -mean * alpha
    if bias is not None:
        beta = beta + bias
    shape = (1, -1) + (1,) * (x.dim() - 2)
    return x.mul_(alpha.view(shape)).add_(beta.view(shape))


class InstanceNorm(_StatNorm):
    """`nn.InstanceNorm2d(c)` without affine parameters or running statistics (no state_dict entries)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen is None and self.recording:
            if x.shape[0] != 1:
                raise ValueError("shared statistics need a batch of one image")
            self.frozen = _batch_stats(x, x.shape[1])
        if self.frozen is not None:
            mean, var = self.frozen
            if self._in_place(x):
                return _normalize_(x, mean, var)
            return F.batch_norm(x, mean, var, None, None, False, 0.0, EPS)
        if x.shape[0] == 1:  # per-image statistics of one image are its batch statistics
            if self._in_place(x):
                return _normalize_(x, *_batch_stats(x, x.shape[1]))
            return F.batch_norm(x, None, None, None, None, True, 0.0, EPS)
        return F.instance_norm(x, eps=EPS)


class LayerNorm2d(_StatNorm):
    """`nn.GroupNorm(1, channels)`: one mean and variance over (C, H, W), then a per-channel affine map."""

    def __init__(self, channels: int, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.channels = channels
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen is None and self.recording:
            if x.shape[0] != 1:
                raise ValueError("shared statistics need a batch of one image")
            mean, var = _layer_stats(x)
            self.frozen = (mean.expand(self.channels).contiguous(), var.expand(self.channels).contiguous())
        if self.frozen is not None:
            mean, var = self.frozen
            # float32 statistics need float32 affine parameters too (mixed bf16 input is supported).
            weight, bias = self.weight.float(), self.bias.float()
            if self._in_place(x):
                return _normalize_(x, mean, var, weight, bias)
            return F.batch_norm(x, mean, var, weight, bias, False, 0.0, EPS)
        if self._in_place(x) and x.shape[0] == 1:
            mean, var = _layer_stats(x)
            return _normalize_(x, mean.expand(self.channels), var.expand(self.channels), self.weight, self.bias)
        return F.group_norm(x, 1, self.weight, self.bias, EPS)


def _layer_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased variance over (C, H, W) of a (1, C, H, W) tensor, as (1,) float32 tensors."""
    nhwc = x.permute(0, 2, 3, 1)  # a view without copying for channels_last tensors
    flat = nhwc.reshape(1, 1, -1) if nhwc.is_contiguous() else x.reshape(1, 1, -1)
    return _batch_stats(flat, 1)


@contextmanager
def shared_statistics(model: nn.Module) -> Iterator[None]:
    """Within the block the first forward pass records every norm layer's statistics; later ones reuse them.

    Run the model once on the whole image (downscaled if need be), then on each tile: all tiles are normalised
    alike, as one pass over the whole image would normalise them.
    """
    norms = [m for m in model.modules() if isinstance(m, _StatNorm)]
    for norm in norms:
        norm.frozen = None
        norm.recording = True
    try:
        yield
    finally:
        for norm in norms:
            norm.frozen = None
            norm.recording = False
