"""Normalisation layers whose statistics can be shared between tiles.

InstanceNorm (CycleGAN) and single-group GroupNorm (AnimeGANv2) normalise with statistics of the whole feature
map. Run on tiles, every tile would get its own statistics, and tile borders would show as seams. These layers
compute exactly what the torch ones compute by default; inside `shared_statistics` the first pass (over the
whole, possibly downscaled, image) records the statistics and the later passes (the tiles) reuse them.

All three modes go through `F.batch_norm`, which keeps channels_last and bfloat16 tensors as they are (torch's
instance norm copies them to contiguous float layouts, several times slower on CPU).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-5


class _StatNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.recording = False
        self.frozen: tuple[torch.Tensor, torch.Tensor] | None = None


def _batch_stats(x: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased variance per channel of a (1, channels, ...) tensor, in float32."""
    mean = torch.zeros(channels, dtype=torch.float32, device=x.device)
    var = torch.ones(channels, dtype=torch.float32, device=x.device)
    # Momentum 1: the buffers become this batch's statistics.
    F.batch_norm(x, mean, var, None, None, True, 1.0, EPS)
    n = x.numel() // channels
    return mean, var * ((n - 1) / n if n > 1 else 1.0)  # batch_norm stores the unbiased variance


class InstanceNorm(_StatNorm):
    """`nn.InstanceNorm2d(c)` without affine parameters or running statistics (no state_dict entries)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen is None and self.recording:
            if x.shape[0] != 1:
                raise ValueError("shared statistics need a batch of one image")
            self.frozen = _batch_stats(x, x.shape[1])
        if self.frozen is not None:
            mean, var = self.frozen
            return F.batch_norm(x, mean, var, None, None, False, 0.0, EPS)
        if x.shape[0] == 1:  # per-image statistics of one image are its batch statistics
            return F.batch_norm(x, None, None, None, None, True, 0.0, EPS)
        return F.instance_norm(x, eps=EPS)


class LayerNorm2d(_StatNorm):
    """`nn.GroupNorm(1, channels)`: one mean and variance over (C, H, W), then a per-channel affine map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen is None and self.recording:
            if x.shape[0] != 1:
                raise ValueError("shared statistics need a batch of one image")
            nhwc = x.permute(0, 2, 3, 1)  # a view without copying for channels_last tensors
            flat = nhwc.reshape(1, 1, -1) if nhwc.is_contiguous() else x.reshape(1, 1, -1)
            mean, var = _batch_stats(flat, 1)
            self.frozen = (mean.expand(self.channels).contiguous(), var.expand(self.channels).contiguous())
        if self.frozen is not None:
            mean, var = self.frozen
            # float32 statistics need float32 affine parameters too (mixed bf16 input is supported).
            weight, bias = self.weight.float(), self.bias.float()
            return F.batch_norm(x, mean, var, weight, bias, False, 0.0, EPS)
        return F.group_norm(x, 1, self.weight, self.bias, EPS)


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
