"""Keeping the photo's own colours (Gatys et al., "Preserving color in neural artistic style transfer", 2016).

``luminance``: the result's luminance with the photo's chroma (YCbCr, BT.601). ``match``: before stylising,
the style image's colours are mapped linearly so their mean and covariance equal the photo's.
All tensors are (1, 3, H, W) in [0, 1].
"""

from __future__ import annotations

from typing import Literal

import torch

ColorMethod = Literal["luminance", "match"]

_RGB_TO_YCBCR = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], dtype=torch.float32
)
_OFFSET = torch.tensor([0.0, 0.5, 0.5]).view(1, 3, 1, 1)


def rgb_to_ycbcr(img: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YCBCR.to(img), img) + _OFFSET.to(img)


def ycbcr_to_rgb(img: torch.Tensor) -> torch.Tensor:
    inverse = torch.linalg.inv(_RGB_TO_YCBCR).to(img)
    return torch.einsum("ij,njhw->nihw", inverse, img - _OFFSET.to(img))


def transfer_luminance(stylised: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The stylised image's luminance with the content's chroma (content resized to match if needed)."""
    if content.shape[-2:] != stylised.shape[-2:]:
        content = torch.nn.functional.interpolate(
            content, size=stylised.shape[-2:], mode="bilinear", align_corners=False, antialias=True
        )
    y = rgb_to_ycbcr(stylised)[:, :1]
    chroma = rgb_to_ycbcr(content)[:, 1:]
    return ycbcr_to_rgb(torch.cat([y, chroma], dim=1)).clamp(0.0, 1.0)


def _mean_cov(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = img.reshape(3, -1).double()
    mean = flat.mean(dim=1, keepdim=True)
    centred = flat - mean
    cov = centred @ centred.T / max(1, flat.shape[1] - 1) + 1e-5 * torch.eye(3, dtype=flat.dtype)
    return mean, cov


def _sqrtm(mat: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(mat)
    vals = vals.clamp_min(1e-8)
    power = -0.5 if inverse else 0.5
    return vecs @ torch.diag(vals.pow(power)) @ vecs.T


def match_colors(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``source`` with its colour mean and covariance mapped onto ``reference``'s (a linear transfer)."""
    s_mean, s_cov = _mean_cov(source)
    r_mean, r_cov = _mean_cov(reference)
    transform = _sqrtm(r_cov) @ _sqrtm(s_cov, inverse=True)
    flat = source.reshape(3, -1).double()
    out = transform @ (flat - s_mean) + r_mean
    return out.reshape(source.shape).to(source.dtype).clamp(0.0, 1.0)


def keep_colors(stylised: torch.Tensor, content: torch.Tensor, method: ColorMethod = "luminance") -> torch.Tensor:
    """The stylised image recoloured to the content's colours after the fact."""
    if method == "luminance":
        return transfer_luminance(stylised, content)
    return match_colors(stylised, content)
