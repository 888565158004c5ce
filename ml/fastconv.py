"""Fast fp32 convolutions for CPUs without native bf16: NNPACK's Winograd and FFT kernels, already in torch.

On a CPU with AVX2 but neither AVX-512 nor bf16, oneDNN's direct fp32 convolutions run near the CPU's peak, and
that peak is the limit. NNPACK (built into torch's x86 and Arm wheels) computes 3x3 convolutions with Winograd
transforms and larger kernels with FFTs: fewer multiplications for the same result, up to rounding (about 1e-5
of the output's scale). Measured on a 2-core AVX2 EPYC: a 256-channel 3x3 convolution 2.1x faster than oneDNN in
channels_last, a 7x7 one between 32 and 64 channels 3x faster (``python -m ml.bench convs``).

:class:`FastConv2d` is an ``nn.Conv2d`` (same parameters, same ``state_dict`` keys) whose float32 forward
goes through NNPACK where it applies, with a backward to the *input* through NNPACK as well (the transposed,
flipped kernel): the frozen VGG of style transfer needs the image's gradient, never the weights'.
:func:`use_fast_convs` swaps the eligible convolutions of a model in place.

NNPACK is used on x86 CPUs whose widest vector ISA is AVX2 (with AVX-512, oneDNN's fp32 kernels run twice as wide
and NNPACK's are AVX2 only) and never where bf16 is native (that path is faster still); callers can force either
way (``NSTConfig(nnpack=...)``, ``presets.build_generator(..., nnpack=...)``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ml import device


@functools.cache
def nnpack_ready() -> bool:
    """Whether torch's NNPACK is built in and initialised on this CPU (it must be before any call)."""
    try:
        return bool(torch._nnpack_available())
    except (AttributeError, RuntimeError):
        return False


def nnpack_wanted() -> bool:
    """Whether the fp32 path should use NNPACK here: on x86 CPUs whose widest vector ISA is AVX2, never where bf16
    is native (see the module doc)."""
    return nnpack_ready() and device.vector_isa() == "avx2" and not device.native_bf16_supported()


#: Below these output sizes (pixels) oneDNN's direct convolution is faster than NNPACK's, whose kernel transform
#: is paid on every call (measured on a 2-core AVX2 EPYC: crossover about 2,500 px at 64 input channels and
#: 700 px at 128 to 512).
MIN_PIXELS_NARROW = 2500
MIN_PIXELS_WIDE = 768


def worth_it(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether NNPACK beats oneDNN for this input and kernel (see :data:`MIN_PIXELS_WIDE`)."""
    pixels = x.shape[-1] * x.shape[-2]
    return pixels >= (MIN_PIXELS_NARROW if weight.shape[1] <= 64 else MIN_PIXELS_WIDE)


#: NNPACK keeps one workspace per thread for the life of the process, grown to the largest call's need and never
#: shrunk (torch's ``NNPACK.cpp``): measured, about 7 bytes (3x3, Winograd) or 10 bytes (larger kernels, FFT) per
#: output pixel and channel, input and output channels counted. One 7x7 convolution over a 1.7-megapixel map
#: would keep 1.1 GB, one 3x3 from 128 to 64 channels 2.2 GB. Calls that would need more than this run on strips
#: of rows instead (each with its halo), so that the workspace never grows past it.
MAX_WORKSPACE_BYTES = 256 * 2**20


def workspace_bytes(pixels: int, weight: torch.Tensor) -> int:
    """The workspace NNPACK keeps after computing ``pixels`` output pixels with ``weight`` (an estimate, above
    the measured figures)."""
    per_channel = 7 if weight.shape[-1] == 3 else 10
    return pixels * (weight.shape[0] + weight.shape[1]) * per_channel


def strip_rows(batch: int, out_h: int, out_w: int, weight: torch.Tensor) -> int:
    """Output rows per NNPACK call so that its workspace stays within :data:`MAX_WORKSPACE_BYTES`; a multiple of
    30 (the output tiles of its transforms are 6 or 10 px high, so strips cut where its own tiles end)."""
    per_row = workspace_bytes(batch * out_w, weight)
    rows = MAX_WORKSPACE_BYTES // max(per_row, 1)
    return max(weight.shape[-1], rows // 30 * 30 if rows >= 30 else rows)


def _nnpack(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int, mode: str = "zeros"
) -> torch.Tensor:
    """A stride-1 convolution through NNPACK with ``padding`` px of ``mode`` padding ("zeros" or "reflect"),
    in strips of rows where one call would need too large a workspace (contiguous output, any input layout)."""
    if not worth_it(x, weight):
        if mode != "zeros":
            return F.conv2d(F.pad(x, (padding,) * 4, mode=mode), weight, bias)
        return F.conv2d(x, weight, bias, padding=padding)
    k = weight.shape[-1]
    h, w = x.shape[-2:]
    out_h, out_w = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    rows = strip_rows(x.shape[0], out_h, out_w, weight)
    weight = weight.contiguous()
    pad_mode = "constant" if mode == "zeros" else mode
    if rows >= out_h:
        if mode != "zeros":
            x, padding = F.pad(x, (padding,) * 4, mode=pad_mode), 0
        return torch._nnpack_spatial_convolution(x.contiguous(), weight, bias, [padding, padding], [1, 1])
    out = x.new_empty((x.shape[0], weight.shape[0], out_h, out_w))
    for r0 in range(0, out_h, rows):
        r1 = min(out_h, r0 + rows)
        # Input rows [lo, hi) of the padded image, clipped to the image; the rest is padding.
        lo, hi = r0 - padding, r1 - padding + k - 1
        a, b = max(lo, 0), min(hi, h)
        strip = F.pad(x[:, :, a:b], (padding, padding, a - lo, hi - b), mode=pad_mode).contiguous()
        out[:, :, r0:r1] = torch._nnpack_spatial_convolution(strip, weight, bias, [0, 0], [1, 1])
        del strip
    return out


class _NNPackConv(torch.autograd.Function):
    """A stride-1 convolution through NNPACK, differentiable with respect to its input only."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int) -> Any:
        ctx.save_for_backward(weight)
        ctx.padding = padding
        return _nnpack(x, weight, bias, padding)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        (weight,) = ctx.saved_tensors
        k = weight.shape[-1]
        # The gradient of a stride-1 convolution is the convolution of the output's gradient with the
        # transposed, flipped kernel, padded by k - 1 - padding.
        flipped = weight.transpose(0, 1).flip(2, 3)
        return _nnpack(grad, flipped, None, k - 1 - ctx.padding), None, None, None


def eligible(conv: nn.Conv2d) -> bool:
    """Convolutions NNPACK computes: stride 1, no dilation, one group, square kernel of 3 px or more, zero or
    reflection padding smaller than the kernel, at least 3 input and 3 output channels."""
    k = conv.kernel_size
    padding = conv.padding
    return (
        type(conv) in (nn.Conv2d, FastConv2d)
        and k[0] == k[1] >= 3
        and conv.stride == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode in ("zeros", "reflect")
        and isinstance(padding, tuple)
        and padding[0] == padding[1] < k[0]
        and conv.in_channels >= 3
        and conv.out_channels >= 3
    )


class FastConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose float32 CPU forward runs through NNPACK (made by :func:`use_fast_convs`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float32 or x.device.type != "cpu" or self.weight.requires_grad:
            return super().forward(x)
        padding = self.padding[0]
        assert isinstance(padding, int)
        if torch.is_grad_enabled() and x.requires_grad:
            if self.padding_mode != "zeros":  # the input's gradient through reflection padding: torch's own
                return super().forward(x)
            out: torch.Tensor = _NNPackConv.apply(x, self.weight, self.bias, padding)
            return out
        # Reflection padding is added strip by strip: the padded map is never made whole.
        return _nnpack(x, self.weight, self.bias, padding, self.padding_mode)


def use_fast_convs(model: nn.Module) -> int:
    """Turn every eligible ``nn.Conv2d`` of ``model`` into a :class:`FastConv2d` in place (the parameters and
    ``state_dict`` stay as they are); the number turned. Needs :func:`nnpack_ready`."""
    if not nnpack_ready():
        raise RuntimeError("NNPACK is not available in this torch build or on this CPU")
    count = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and type(module) is nn.Conv2d and eligible(module):
            module.__class__ = FastConv2d
            count += 1
    return count


def use_plain_convs(model: nn.Module) -> None:
    """Undo :func:`use_fast_convs`."""
    for module in model.modules():
        if type(module) is FastConv2d:
            plain: nn.Module = module
            plain.__class__ = nn.Conv2d


@contextmanager
def fast_convs(model: nn.Module, enabled: bool = True) -> Iterator[nn.Module]:
    """Within the block, ``model``'s eligible convolutions run through NNPACK (when ``enabled``); afterwards they
    are plain again, so that a model shared by other callers is left as it was."""
    if not enabled:
        yield model
        return
    use_fast_convs(model)
    try:
        yield model
    finally:
        use_plain_convs(model)


def reference_conv(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """What ``nn.Conv2d`` computes (oneDNN or the default kernels), for comparisons."""
    return F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups)


class ChannelsLastConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` that runs on its input in channels_last (made by :func:`transposed_channels_last`).

    In fp32 on the NNPACK path the generators run in the contiguous layout, where oneDNN's transposed convolution
    is slow and memory-hungry: measured on a 2-core AVX2 EPYC, CycleGAN's 128-to-64-channel one at 1.7 megapixels
    out took 5.7 s and 1.25 GB above its input (its output is 0.42 GB), against 1.5 s and 0.42 GB in channels_last.
    """

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        return super().forward(x.contiguous(memory_format=torch.channels_last), output_size)


def transposed_channels_last(model: nn.Module) -> int:
    """Turn every ``nn.ConvTranspose2d`` of ``model`` into a :class:`ChannelsLastConvTranspose2d` in place (same
    parameters and ``state_dict``); the number turned."""
    count = 0
    for module in model.modules():
        if type(module) is nn.ConvTranspose2d:
            module.__class__ = ChannelsLastConvTranspose2d
            module.to(memory_format=torch.channels_last)
            count += 1
    return count
