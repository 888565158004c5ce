"""MicroAST with the real pretrained weights: does it transfer style and keep the photo's structure?

Style is measured by texture statistics independent of the network: Gram matrices of 3x3 colour patches at
two scales (relative distance to the style image's). Structure by the correlation of luminance gradients.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ml import imageio
from ml.microast import load_microast, run_microast


def _patch_grams(x: torch.Tensor) -> list[torch.Tensor]:
    grams = []
    for scale in (1, 2):
        y = F.avg_pool2d(x, scale) if scale > 1 else x
        patches = F.unfold(y, 3)[0]
        patches = patches - patches.mean(dim=1, keepdim=True)
        grams.append(patches @ patches.T / patches.shape[1])
    return grams


def style_distance(x: torch.Tensor, style: torch.Tensor) -> float:
    return sum(
        float((gx - gs).pow(2).sum() / gs.pow(2).sum())
        for gx, gs in zip(_patch_grams(x), _patch_grams(style), strict=True)
    )


def _luma(x: torch.Tensor) -> torch.Tensor:
    return 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]


def structure_similarity(a: torch.Tensor, b: torch.Tensor) -> float:
    """Correlation of the horizontal and vertical luminance gradients of two same-size images."""

    def grads(x: torch.Tensor) -> torch.Tensor:
        y = _luma(x)
        return torch.cat(
            [(y[..., :, 1:] - y[..., :, :-1]).flatten(), (y[..., 1:, :] - y[..., :-1, :]).flatten()]
        )

    return float(torch.corrcoef(torch.stack([grads(a), grads(b)]))[0, 1])


@pytest.fixture(scope="module")
def images(cat: Image.Image, brick: Image.Image) -> tuple[torch.Tensor, torch.Tensor]:
    content = imageio.to_tensor(imageio.resize_long_side(cat, 128))
    style = imageio.to_tensor(imageio.resize_long_side(brick, 128))
    return content, style


def test_real_weights_transfer_style_and_keep_structure(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    # Given the cat photo and a brick-wall texture, at 128 px
    content, style = images
    model = load_microast()
    # When stylised at full strength (fp32)
    out = run_microast(model, content, style, 1.0, bf16=False)
    # Then the output keeps the photo's size
    assert out.shape == content.shape
    # And its texture statistics moved most of the way from the photo's to the brick's
    before, after = style_distance(content, style), style_distance(out, style)
    assert after < 0.25 * before, (before, after)
    # And the cat's edges are still there: clearly correlated with the photo's, unlike the texture's
    kept = structure_similarity(out, content)
    unrelated = structure_similarity(style[..., : content.shape[2], : content.shape[3]], content)
    assert kept > 0.12 and kept > unrelated + 0.1, (kept, unrelated)


def test_strength_moves_between_photo_and_style(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    content, style = images
    model = load_microast()
    outs = {a: run_microast(model, content, style, a, bf16=False) for a in (0.0, 0.5, 1.0)}
    # The stronger, the closer to the style's statistics
    distances = [style_distance(outs[a], style) for a in (0.0, 0.5, 1.0)]
    assert distances[0] > distances[1] > distances[2], distances

    # At strength 0 the photo comes back recognisably (luminance correlation), at 1 much less so
    def luma_corr(x: torch.Tensor) -> float:
        return float(torch.corrcoef(torch.stack([_luma(x).flatten(), _luma(content).flatten()]))[0, 1])

    assert luma_corr(outs[0.0]) > 0.8 > luma_corr(outs[1.0])
    # And the intermediate strength is a real image, not saturated colour
    assert 0.05 < float(outs[0.5].std()) < 0.4


def test_odd_sizes_and_bf16_agree_with_fp32(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    # Given a content size that is not a multiple of 4
    content, style = images
    odd = content[..., :83, :125]
    model = load_microast()
    fp32 = run_microast(model, odd, style, 1.0, bf16=False)
    assert fp32.shape == odd.shape
    # And the bf16 path (taken only where the CPU has it natively) stays close to fp32
    bf16 = run_microast(model, odd, style, 1.0, bf16=True)
    assert float((bf16 - fp32).abs().mean()) < 0.03
