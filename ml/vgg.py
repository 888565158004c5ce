"""VGG19 convolutional features in torchvision's layout, cut after the last layer a loss uses.

The module's ``state_dict`` keys are torchvision's (``features.<index>.weight``/``bias``), so
``vgg19-dcbb9e9d.pth`` (torchvision's ``VGG19_Weights.IMAGENET1K_V1``) loads into it; the classifier keys of
that file are ignored, as are the weights of layers after the cut.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence

import torch
from torch import nn

from ml import weights
from ml.registry import VGG19_WEIGHTS

WEIGHTS_NAME = VGG19_WEIGHTS

#: Channel plan of VGG19's ``features`` ("M" = 2x2 max pooling), as torchvision builds it.
_PLAN: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _layer_names() -> list[str]:
    names: list[str] = []
    block, conv = 1, 1
    for item in _PLAN:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return names


#: Names of torchvision's ``features`` indices: ``LAYER_NAMES[1] == "relu1_1"``, ``[22] == "relu4_2"``.
LAYER_NAMES: tuple[str, ...] = tuple(_layer_names())
LAYER_INDEX: dict[str, int] = {name: i for i, name in enumerate(LAYER_NAMES)}


class VGG19Features(nn.Module):
    """``features`` of torchvision's VGG19 up to and including ``last_layer``, with ImageNet normalisation.

    ``forward(x, taps)`` takes images in [0, 1] and returns the activations of the tapped layers by name.
    ``empty=True`` builds the convolutions on the ``meta`` device (no memory, no random initialisation):
    :meth:`load_torchvision_state_dict` then gives them the loaded tensors themselves.
    """

    def __init__(self, last_layer: str = "relu5_1", *, empty: bool = False) -> None:
        super().__init__()
        if last_layer not in LAYER_INDEX:
            raise ValueError(f"unknown VGG19 layer {last_layer!r}")
        layers: list[nn.Module] = []
        in_ch = 3
        with torch.device("meta") if empty else contextlib.nullcontext():
            for item in _PLAN:
                if item == "M":
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                else:
                    assert isinstance(item, int)
                    layers += [nn.Conv2d(in_ch, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                    in_ch = item
        self.last_layer = last_layer
        self.features = nn.Sequential(*layers[: LAYER_INDEX[last_layer] + 1])
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def load_torchvision_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Load the ``features.*`` entries this cut needs from a torchvision VGG19 state dict (strictly).

        The tensors are taken as they are (``assign=True``), not copied: from a memory-mapped file only the
        pages of the layers used are ever read, and the classifier's never are.
        """
        own = self.state_dict()
        subset = {k: v for k, v in state_dict.items() if k in own}
        missing = sorted(set(own) - set(subset))
        if missing:
            raise ValueError(f"VGG19 state dict lacks {', '.join(missing)}")
        self.load_state_dict({k: v.float() for k, v in subset.items()}, strict=True, assign=True)

    def forward(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        wanted = {LAYER_INDEX[name] for name in taps}
        out: dict[str, torch.Tensor] = {}
        h = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        for index, layer in enumerate(self.features):
            h = layer(h)
            if index in wanted:
                out[LAYER_NAMES[index]] = h
                if len(out) == len(wanted):
                    break
        return out


def load_vgg19_features(
    last_layer: str = "relu5_1", *, device: torch.device | str = "cpu", verify: bool = True
) -> VGG19Features:
    """VGG19 features with the manifest's ``vgg19`` weights, frozen, in eval mode."""
    model = VGG19Features(last_layer, empty=True)
    model.load_torchvision_state_dict(weights.load_state_dict(WEIGHTS_NAME, verify=verify))
    return model.eval().requires_grad_(False).to(device)


@functools.cache
def cached_vgg19_features(last_layer: str = "relu5_1") -> VGG19Features:
    """One VGG19 feature extractor per process and cut, on the CPU."""
    return load_vgg19_features(last_layer)


def seeded_random_state_dict(seed: int = 0, *, last_layer: str = "relu5_1") -> dict[str, torch.Tensor]:
    """Random VGG19 ``features`` weights in torchvision's layout, initialised as torchvision does
    (Kaiming normal, fan-out, zero bias), reproducible for a seed. For tests and benchmarks without the real
    file."""
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, tensor in VGG19Features(last_layer, empty=True).state_dict().items():
        if key.endswith(".bias"):
            state[key] = torch.zeros(tensor.shape)  # not zeros_like: the template is on the meta device
        else:
            fan_out = tensor.shape[0] * tensor.shape[2] * tensor.shape[3]
            std = (2.0 / fan_out) ** 0.5
            state[key] = torch.randn(tensor.shape, generator=generator) * std
    return state
