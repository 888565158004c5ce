"""CycleGAN ResNet-9-block generator (ngf=64), the layout of pytorch-CycleGAN-and-pix2pix's `resnet_9blocks`.

Its `state_dict` has exactly the keys and shapes of the public `style_monet`, `style_vangogh`, `style_cezanne`
and `style_ukiyoe` checkpoints: the trunk is one `nn.Sequential` named `model`, so the indices in the keys
(`model.1`, `model.10.conv_block.5`, ...) are the positions of the layers below.

Conventions: RGB input in [-1, 1], output in [-1, 1] (tanh); two stride-2 convolutions, so the spatial size is
reflection-padded to a multiple of 4 and the result cropped back.

The reference code pads with `nn.ReflectionPad2d` before each stride-1 convolution; here the convolution pads
(`padding_mode="reflect"`: the same computation) and an `nn.Identity` keeps the pad's place, so the indices in the
keys are the checkpoints'. A convolution that pads itself can pad strip by strip (`ml.fastconv`) instead of
making a padded copy of the whole feature map. The norm layers normalise in place (`ml.norms`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ml.norms import InstanceNorm

SIZE_MULTIPLE = 4
NGF = 64
N_BLOCKS = 9


class ResnetBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with instance norm, plus the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Identity(),  # the reference's ReflectionPad2d(1): the convolution pads
            _reflect_conv(channels, channels, 3),
            InstanceNorm(inplace=True),
            nn.ReLU(inplace=True),
            nn.Identity(),
            _reflect_conv(channels, channels, 3),
            InstanceNorm(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def _reflect_conv(c_in: int, c_out: int, kernel: int) -> nn.Conv2d:
    """A stride-1 convolution on the input reflection-padded by half its kernel: same size out."""
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode="reflect")


def _down(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), InstanceNorm(inplace=True), nn.ReLU(inplace=True)]


def _up(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
        InstanceNorm(inplace=True),
        nn.ReLU(inplace=True),
    ]


class CycleGANGenerator(nn.Module):
    """Image-to-image generator: 7x7 stem, two downsamplings, 9 residual blocks, two upsamplings, 7x7 head."""

    size_multiple = SIZE_MULTIPLE

    def __init__(self) -> None:
        super().__init__()
        stem = [nn.Identity(), _reflect_conv(3, NGF, 7), InstanceNorm(inplace=True), nn.ReLU(inplace=True)]
        layers: list[nn.Module] = list(stem)
        layers += _down(NGF, NGF * 2) + _down(NGF * 2, NGF * 4)
        layers += [ResnetBlock(NGF * 4) for _ in range(N_BLOCKS)]
        layers += _up(NGF * 4, NGF * 2) + _up(NGF * 2, NGF)
        layers += [nn.Identity(), _reflect_conv(NGF, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in [-1, 1], H and W multiples of 4 -> same shape in [-1, 1]."""
        return self.model(x)

    @staticmethod
    def adapt_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Drop InstanceNorm running-statistics entries, which checkpoints saved by old torch carry.

        The reference code removes them too before loading; the layers have no statistics to load.
        """
        dropped = ("running_mean", "running_var", "num_batches_tracked")
        return {k: v for k, v in state.items() if not k.endswith(dropped)}

    @staticmethod
    def to_input(rgb01: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (N, 3, H, W) -> the model's input: RGB in [-1, 1]."""
        return rgb01 * 2.0 - 1.0

    @staticmethod
    def to_rgb01(out: torch.Tensor) -> torch.Tensor:
        """The model's output (tanh, [-1, 1]) -> RGB in [0, 1]."""
        return (out * 0.5 + 0.5).clamp(0.0, 1.0)
