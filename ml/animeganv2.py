"""AnimeGANv2 generator, the layout of the animegan2-pytorch port (2,143,552 parameters).

Its `state_dict` has exactly the keys and shapes of that port's public `paprika`, `face_paint_512_v2`,
`face_paint_512_v1` and `celeba_distill` weights: five sequential blocks `block_a`..`block_e` of
pad-conv-norm-LeakyReLU units (`<i>.1` the convolution, `<i>.2` the single-group GroupNorm), inverted residual
blocks (`layers.*`) in `block_c`, and a 1x1 `out_layer`.

Conventions: RGB input in [-1, 1], output in [-1, 1] (tanh). Two stride-2 convolutions pad only right and
bottom, and the decoder upsamples by exactly 2, so the size is reflection-padded to a multiple of 4 and the
result cropped back. Upsampling is bilinear without corner alignment (the port's `test.py` default),
which keeps the network translation-equivariant and so consistent across tiles.

Where the port pads by the same amount on every side, the convolution pads itself (`padding_mode="reflect"`: the
same computation) and an `nn.Identity` keeps the pad's place in the keys; such a convolution can pad strip by strip
(`ml.fastconv`) instead of copying the whole feature map. The norm layers normalise in place (`ml.norms`), and the
forward pass is one flat loop over the layers, so that no finished layer's input stays referenced (by the frame
of an enclosing `nn.Sequential`) while the next layers run: at 1.7 megapixels one 128-channel map is 0.9 GB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from ml.norms import LayerNorm2d

SIZE_MULTIPLE = 4


class ConvNormLReLU(nn.Sequential):
    """Reflection pad (0), convolution (1), single-group norm (2), LeakyReLU 0.2 (3); an even pad is the
    convolution's own (0 is then an `nn.Identity`)."""

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
        if isinstance(pad, int):
            pad_layer: nn.Module = nn.Identity()
            conv = nn.Conv2d(
                c_in, c_out, kernel, stride, pad, groups=groups, bias=bias, padding_mode="reflect" if pad else "zeros"
            )
        else:
            pad_layer = nn.ReflectionPad2d(pad)
            conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, groups=groups, bias=bias)
        super().__init__(pad_layer, conv, LayerNorm2d(c_out, inplace=True), nn.LeakyReLU(0.2, inplace=True))


def _layers(module: nn.Module) -> Iterator[Callable[[torch.Tensor], torch.Tensor]]:
    """The layers of (nested) `nn.Sequential` blocks in order; any other module whole."""
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from _layers(child)
    else:
        yield module


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
            LayerNorm2d(c_out, inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in _layers(self.layers):
            out = layer(out)
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
        up: Callable[[torch.Tensor], torch.Tensor] = partial(
            F.interpolate, scale_factor=2.0, mode="bilinear", align_corners=False
        )
        layers: tuple[Callable[[torch.Tensor], torch.Tensor], ...] = (
            *_layers(self.block_a),
            *_layers(self.block_b),
            *_layers(self.block_c),
            up,
            *_layers(self.block_d),
            up,
            *_layers(self.block_e),
            *_layers(self.out_layer),
        )
        for layer in layers:
            x = layer(x)
        return x

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
