"""MicroAST: super-fast arbitrary style transfer (Wang et al., AAAI 2023), our implementation.

Two micro encoders (content, style) of depthwise-separable convolutions, a modulator that turns style
features into per-channel filter modulation signals, and a micro decoder that applies AdaIN-style feature
modulation plus the filter modulation. 0.47 M parameters. The module names and shapes follow the authors'
checkpoints exactly, so their published state dicts load with ``strict=True``.

Images are (N, 3, H, W) tensors in [0, 1] (no ImageNet normalisation); any size works (the content is
reflect-padded to a multiple of 4 internally and the result cropped back).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ml import device, weights

#: Manifest names of the four parts.
WEIGHT_NAMES = {
    "content_encoder": "microast_content_encoder",
    "style_encoder": "microast_style_encoder",
    "modulator": "microast_modulator",
    "decoder": "microast_decoder",
}

_EPS = 1e-5


def mean_std(feat: torch.Tensor, eps: float = _EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation (unbiased variance + ``eps``), shaped (N, C, 1, 1)."""
    n, c = feat.shape[:2]
    flat = feat.reshape(n, c, -1)
    var = flat.var(dim=2) + eps
    return flat.mean(dim=2).view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1)


def adain(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Adaptive instance normalisation: the content's per-channel statistics replaced by the style's."""
    c_mean, c_std = mean_std(content)
    s_mean, s_std = mean_std(style)
    return (content - c_mean) / c_std * s_std + s_mean


class ConvLayer(nn.Module):
    """Reflection padding then a (possibly grouped) convolution, as in the checkpoints (``conv_layer``)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.pad = kernel_size // 2
        self.conv_layer = nn.Conv2d(in_ch, out_ch, kernel_size, stride, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = F.pad(x, (self.pad, self.pad, self.pad, self.pad), mode="reflect")
        return self.conv_layer(x)


class ResidualLayer(nn.Module):
    """Two 3x3 convolutions with a skip; with modulation signals each conv output is ``w*conv + b*input``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.conv2 = ConvLayer(channels, channels, 3)

    def forward(
        self, x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        if weight is None or bias is None:
            return x + self.conv2(F.relu(self.conv1(x)))
        h = F.relu(weight * self.conv1(x) + bias * x)
        return x + weight * self.conv2(h) + bias * h


def _separable_down(in_ch: int, out_ch: int) -> list[nn.Module]:
    """Grouped 3x3 stride-2 conv (channel multiplier 2) + ReLU + pointwise conv + ReLU."""
    return [ConvLayer(in_ch, out_ch, 3, 2, groups=in_ch), nn.ReLU(), ConvLayer(out_ch, out_ch, 1), nn.ReLU()]


class Encoder(nn.Module):
    """Micro encoder: 9x9 conv, two separable downsamplings (to 1/4 size, 64 channels), two residual blocks.

    Returns the features after the first residual block and after the second.
    """

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(
            ConvLayer(3, 16, 9),
            nn.ReLU(),
            *_separable_down(16, 32),
            *_separable_down(32, 64),
            ResidualLayer(64),
        )
        self.enc2 = nn.Sequential(ResidualLayer(64))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1 = self.enc1(x)
        return [f1, self.enc2(f1)]


class Modulator(nn.Module):
    """Filter-modulation signals (weights and biases) from the two levels of style features."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.weight1 = _head(channels)
        self.bias1 = _head(channels)
        self.weight2 = _head(channels)
        self.bias2 = _head(channels)

    def forward(self, style_feats: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        w1 = self.weight1(style_feats[0]).mean(dim=(2, 3), keepdim=True)
        b1 = self.bias1(style_feats[0]).mean(dim=(2, 3), keepdim=True)
        w2 = self.weight2(style_feats[1]).mean(dim=(2, 3), keepdim=True)
        b2 = self.bias2(style_feats[1]).mean(dim=(2, 3), keepdim=True)
        return [w1, w2], [b1, b2]


def _head(channels: int) -> nn.Sequential:
    return nn.Sequential(ConvLayer(channels, channels, 3, groups=channels))


def _separable_up(in_ch: int, out_ch: int) -> list[nn.Module]:
    """Bilinear x2 upsampling, grouped 3x3 conv (in_ch -> out_ch), ReLU, pointwise conv, ReLU."""
    return [
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        ConvLayer(in_ch, out_ch, 3, groups=out_ch),
        nn.ReLU(),
        ConvLayer(out_ch, out_ch, 1),
        nn.ReLU(),
    ]


class Decoder(nn.Module):
    """Micro decoder: two modulated residual blocks at 1/4 resolution, two separable upsamplings, 9x9 conv."""

    def __init__(self) -> None:
        super().__init__()
        self.dec1 = ResidualLayer(64)
        self.dec2 = ResidualLayer(64)
        self.dec3 = nn.Sequential(*_separable_up(64, 32), *_separable_up(32, 16), ConvLayer(16, 3, 9))

    def forward(
        self,
        content_feats: list[torch.Tensor],
        style_feats: list[torch.Tensor],
        filter_weights: list[torch.Tensor],
        filter_biases: list[torch.Tensor],
        alpha: float = 1.0,
    ) -> torch.Tensor:
        """The authors' decoding; ``alpha`` < 1 mixes AdaIN'd and raw features (their trade-off)."""
        x = content_feats[1]
        x = alpha * adain(x, style_feats[1]) + (1 - alpha) * x
        x = self.dec1(x, filter_weights[1], filter_biases[1])
        x = alpha * adain(x, style_feats[0]) + (1 - alpha) * x
        x = self.dec2(x, filter_weights[0], filter_biases[0])
        out: torch.Tensor = self.dec3(x)
        return out

    def forward_signals(
        self,
        content_feats: list[torch.Tensor],
        stats: list[tuple[torch.Tensor, torch.Tensor]],
        filter_weights: list[torch.Tensor],
        filter_biases: list[torch.Tensor],
    ) -> torch.Tensor:
        """Decoding with explicit target statistics (mean, std) per level instead of style features."""
        x = _renormalise(content_feats[1], stats[1])
        x = self.dec1(x, filter_weights[1], filter_biases[1])
        x = _renormalise(x, stats[0])
        x = self.dec2(x, filter_weights[0], filter_biases[0])
        out: torch.Tensor = self.dec3(x)
        return out


def _renormalise(x: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    mean, std = mean_std(x)
    return (x - mean) / std * stats[1] + stats[0]


def _lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a + t * (b - a)


@dataclass(frozen=True)
class StyleSignals:
    """What the decoder takes from a style picture: the target statistics (mean, std) of each feature level and
    the filter-modulation weights and biases. Two pictures' signals mix by interpolation."""

    stats: list[tuple[torch.Tensor, torch.Tensor]]
    weights: list[torch.Tensor]
    biases: list[torch.Tensor]

    def towards(self, other: StyleSignals, t: float) -> StyleSignals:
        """These signals moved the share `t` of the way to `other` (0: these, 1: the other's)."""
        return StyleSignals(
            [(_lerp(m, om, t), _lerp(s, os_, t)) for (m, s), (om, os_) in zip(self.stats, other.stats, strict=True)],
            [_lerp(w, ow, t) for w, ow in zip(self.weights, other.weights, strict=True)],
            [_lerp(b, ob, t) for b, ob in zip(self.biases, other.biases, strict=True)],
        )


class MicroAST(nn.Module):
    """The whole network: ``model(content, style, alpha)`` -> stylised image in [0, 1], content's size."""

    def __init__(self) -> None:
        super().__init__()
        self.content_encoder = Encoder()
        self.style_encoder = Encoder()
        self.modulator = Modulator()
        self.decoder = Decoder()

    def parts(self) -> dict[str, nn.Module]:
        return {
            "content_encoder": self.content_encoder,
            "style_encoder": self.style_encoder,
            "modulator": self.modulator,
            "decoder": self.decoder,
        }

    def load_parts(self, state_dicts: dict[str, dict[str, torch.Tensor]]) -> None:
        """Load the four official state dicts (strictly: same keys, same shapes)."""
        for part, module in self.parts().items():
            module.load_state_dict(state_dicts[part], strict=True)

    def signals(self, style: torch.Tensor) -> StyleSignals:
        """The style signals of a picture, as the style encoder and the modulator see it."""
        feats = self.style_encoder(style)
        weights, biases = self.modulator(feats)
        return StyleSignals([mean_std(f) for f in feats], weights, biases)

    def forward(
        self,
        content: torch.Tensor,
        style: torch.Tensor,
        alpha: float = 1.0,
        *,
        blend: str = "signals",
        mix: torch.Tensor | None = None,
        mix_share: float = 0.5,
    ) -> torch.Tensor:
        """Stylise ``content`` with ``style``; ``alpha`` in [0, 1] is the strength.

        ``blend="signals"`` (ours): the style signals (the AdaIN statistics and the filter-modulation
        signals) are interpolated between the content's own, as the style encoder sees it, and the style's;
        alpha 0 reconstructs the photo, 1 is the authors' full stylisation. ``blend="features"``: the authors'
        test-time trade-off, mixing modulated and raw features; with the published weights it saturates
        colours for alpha < 1, so it is kept only for comparison. Both agree at alpha 1.

        ``mix``: a second style picture, whose signals are mixed with the first's, ``mix_share`` of them (0: the
        first style alone, 1: the second alone); strength then applies to the mix as to one style.
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], not {alpha}")
        if not 0.0 <= mix_share <= 1.0:
            raise ValueError(f"mix_share must be in [0, 1], not {mix_share}")
        if blend not in ("signals", "features") or (mix is not None and blend != "signals"):
            raise ValueError(f"blend must be 'signals' or 'features' (a mix: 'signals'), not {blend!r}")
        height, width = content.shape[-2:]
        pad_h, pad_w = (-height) % 4, (-width) % 4
        if pad_h or pad_w:
            content = F.pad(content, (0, pad_w, 0, pad_h), mode="reflect")
        content_feats = self.content_encoder(content)
        if mix is not None:
            target = self.signals(style).towards(self.signals(mix), mix_share)
            if alpha < 1.0:
                target = self.signals(content).towards(target, alpha)
            out = self.decoder.forward_signals(content_feats, target.stats, target.weights, target.biases)
            return out[..., :height, :width].clamp(0.0, 1.0)
        style_feats = self.style_encoder(style)
        filter_weights, filter_biases = self.modulator(style_feats)
        if blend == "features" or alpha == 1.0:
            out = self.decoder(content_feats, style_feats, filter_weights, filter_biases, alpha)
        else:
            own_feats = self.style_encoder(content)
            own_weights, own_biases = self.modulator(own_feats)
            stats = []
            for own, sty in zip(own_feats, style_feats, strict=True):
                (own_mean, own_std), (sty_mean, sty_std) = mean_std(own), mean_std(sty)
                stats.append((_lerp(own_mean, sty_mean, alpha), _lerp(own_std, sty_std, alpha)))
            weights_mix = [_lerp(o, s, alpha) for o, s in zip(own_weights, filter_weights, strict=True)]
            biases_mix = [_lerp(o, s, alpha) for o, s in zip(own_biases, filter_biases, strict=True)]
            out = self.decoder.forward_signals(content_feats, stats, weights_mix, biases_mix)
        return out[..., :height, :width].clamp(0.0, 1.0)

    def at_strengths(
        self,
        content: torch.Tensor,
        style: torch.Tensor,
        alphas: list[float],
        *,
        mix: torch.Tensor | None = None,
        mix_share: float = 0.5,
    ) -> list[torch.Tensor]:
        """The content stylised at each strength of `alphas`, as ``forward`` would with the signals blend, from
        one encoding of the photo and of the style(s): only the decoder runs once a strength."""
        height, width = content.shape[-2:]
        pad_h, pad_w = (-height) % 4, (-width) % 4
        if pad_h or pad_w:
            content = F.pad(content, (0, pad_w, 0, pad_h), mode="reflect")
        content_feats = self.content_encoder(content)
        target = self.signals(style)
        if mix is not None:
            target = target.towards(self.signals(mix), mix_share)
        own = self.signals(content) if any(alpha < 1.0 for alpha in alphas) else target
        outs = []
        for alpha in alphas:
            signals = target if alpha == 1.0 else own.towards(target, alpha)
            out = self.decoder.forward_signals(content_feats, signals.stats, signals.weights, signals.biases)
            outs.append(out[..., :height, :width].clamp(0.0, 1.0))
        return outs


def load_microast(*, device: torch.device | str = "cpu", verify: bool = True) -> MicroAST:
    """A MicroAST in eval mode with the pretrained weights of the manifest."""
    model = MicroAST()
    model.load_parts({part: weights.load_state_dict(name, verify=verify) for part, name in WEIGHT_NAMES.items()})
    return model.eval().requires_grad_(False).to(device)


@functools.cache
def cached_microast() -> MicroAST:
    """One pretrained MicroAST per process, on the CPU."""
    return load_microast()


def run_microast(
    model: MicroAST,
    content: torch.Tensor,
    style: torch.Tensor,
    alpha: float = 1.0,
    *,
    bf16: bool | None = False,
    channels_last: bool = True,
    mix: torch.Tensor | None = None,
    mix_share: float = 0.5,
) -> torch.Tensor:
    """Stylise in inference mode with the channels_last layout.

    ``bf16=None`` uses bf16 autocast where the CPU has native bf16; the default is fp32 because MicroAST's
    small convolutions measured faster in fp32 (0.20 s vs 0.35 s at 512x341 on a 2-core avx512_bf16 CPU).
    ``mix``/``mix_share``: a second style mixed in (:meth:`MicroAST.forward`).
    """
    dtype = device.compute_dtype(bf16)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        content = content.contiguous(memory_format=torch.channels_last)
        style = style.contiguous(memory_format=torch.channels_last)
        mix = None if mix is None else mix.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        out = model(content, style, alpha, mix=mix, mix_share=mix_share)
    return out.float().contiguous()


def run_microast_strengths(
    model: MicroAST,
    content: torch.Tensor,
    style: torch.Tensor,
    alphas: list[float],
    *,
    mix: torch.Tensor | None = None,
    mix_share: float = 0.5,
) -> list[torch.Tensor]:
    """:meth:`MicroAST.at_strengths` in inference mode with the channels_last layout, in fp32."""
    model = model.to(memory_format=torch.channels_last)
    content = content.contiguous(memory_format=torch.channels_last)
    style = style.contiguous(memory_format=torch.channels_last)
    mix = None if mix is None else mix.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        outs = model.at_strengths(content, style, alphas, mix=mix, mix_share=mix_share)
    return [out.float().contiguous() for out in outs]
