"""AnimeGANv2 generator, the layout of the animegan2-pytorch port (2,143,552 parameters).

Its `state_dict` has exactly the keys and shapes of that port's public `paprika`, `face_paint_512_v2`,
`face_paint_512_v1` and `celeba_distill` weights: five sequential blocks `block_a`..`block_e` of
pad-conv-norm-LeakyReLU units (`<i>.1` the convolution, `<i>.2` the single-group GroupNorm), inverted residual
blocks (`layers.*`) in `block_c`, and a 1x1 `out_layer`.

Conventions: RGB input in [-1, 1], output in [-1, 1] (tanh). Two stride-2 convolutions pad only right and
bottom, and the decoder upsamples by exactly 2, so the size is reflection-padded to a multiple of 4 and the
result cropped back. Upsampling is bilinear without corner alignment (the port's `test.py` default),
which keeps the network translation-equivariant and so consistent across tiles.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ml.norms import LayerNorm2d

SIZE_MULTIPLE = 4


class ConvNormLReLU(nn.Sequential):
    """Reflection pad (0), convolution without padding (1), single-group norm (2), LeakyReLU 0.2 (3)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int = 3,
        stride: int = 1,
        pad: int | tuple[int, int, int, int] = 1,
        groups: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__(
            nn.ReflectionPad2d(pad),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, groups=groups, bias=bias),
            LayerNorm2d(c_out),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    """1x1 expansion, depthwise 3x3, 1x1 projection with norm; residual when the widths match."""

    def __init__(self, c_in: int, c_out: int, expansion: int = 2) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.residual = c_in == c_out
        self.layers = nn.Sequential(
            ConvNormLReLU(c_in, hidden, kernel=1, pad=0),
            ConvNormLReLU(hidden, hidden, groups=hidden, bias=True),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            LayerNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.residual else out


# Pad right and bottom only before a stride-2 3x3 convolution: (left, right, top, bottom).
_DOWN_PAD = (0, 1, 0, 1)


class AnimeGANv2Generator(nn.Module):
    """Encoder (x1/4), inverted residual trunk, bilinear decoder back to the input size."""

    size_multiple = SIZE_MULTIPLE

    def __init__(self) -> None:
        super().__init__()
        self.block_a = nn.Sequential(
            ConvNormLReLU(3, 32, kernel=7, pad=3),
            ConvNormLReLU(32, 64, stride=2, pad=_DOWN_PAD),
            ConvNormLReLU(64, 64),
        )
        self.block_b = nn.Sequential(
            ConvNormLReLU(64, 128, stride=2, pad=_DOWN_PAD),
            ConvNormLReLU(128, 128),
        )
        self.block_c = nn.Sequential(
            ConvNormLReLU(128, 128),
            InvertedResBlock(128, 256),
            InvertedResBlock(256, 256),
            InvertedResBlock(256, 256),
            InvertedResBlock(256, 256),
            ConvNormLReLU(256, 128),
        )
        self.block_d = nn.Sequential(ConvNormLReLU(128, 128), ConvNormLReLU(128, 128))
        self.block_e = nn.Sequential(
            ConvNormLReLU(128, 64),
            ConvNormLReLU(64, 64),
            ConvNormLReLU(64, 32, kernel=7, pad=3),
        )
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, 1, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in [-1, 1], H and W multiples of 4 -> same shape in [-1, 1]."""
        out = self.block_c(self.block_b(self.block_a(x)))
        out = self.block_d(F.interpolate(out, scale_factor=2.0, mode="bilinear", align_corners=False))
        out = self.block_e(F.interpolate(out, scale_factor=2.0, mode="bilinear", align_corners=False))
        return self.out_layer(out)

    @staticmethod
    def adapt_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The port's checkpoints load as they are."""
        return dict(state)

    @staticmethod
    def to_input(rgb01: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (N, 3, H, W) -> the model's input: RGB in [-1, 1]."""
        return rgb01 * 2.0 - 1.0

    @staticmethod
    def to_rgb01(out: torch.Tensor) -> torch.Tensor:
        """The model's output (tanh, [-1, 1]) -> RGB in [0, 1]."""
        return (out * 0.5 + 0.5).clamp(0.0, 1.0)
