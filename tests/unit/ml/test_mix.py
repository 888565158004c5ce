"""Mixing two styles: a 50/50 mix lies between the two single-style results. Quick (MicroAST, its real bundled
weights) is measured by a texture statistic independent of the network, best (Gatys, seeded random VGG19 weights)
by the Gram losses to each style."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from ml import api, imageio, paintings
from ml.microast import load_microast, run_microast
from ml.nst import STYLE_LAYERS, NSTConfig, gram, run_nst
from ml.vgg import VGG19Features, load_vgg19_features
from tests.unit.ml.test_microast import style_distance


def _picture(painting_id: str, side: int) -> torch.Tensor:
    return imageio.to_tensor(
        imageio.resize_long_side(imageio.open_image(paintings.get_painting(painting_id).file), side)
    )


@pytest.fixture(scope="module")
def three(cat: Image.Image) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The cat, The Starry Night and The Scream."""
    return (
        imageio.to_tensor(imageio.resize_long_side(cat, 128)),
        _picture("starry_night", 128),
        _picture("the_scream", 128),
    )


def _between(mixed: float, own: float, other: float) -> bool:
    """`mixed` lies strictly between the result of its own style and that of the other one."""
    return min(own, other) < mixed < max(own, other)


def test_quick_half_and_half_lies_between_the_two_styles(three: tuple[torch.Tensor, ...]) -> None:
    # Given the cat and two paintings, and MicroAST with its real weights
    content, a, b = three
    model = load_microast()
    # When the cat is stylised with each alone, and with a 50/50 mix of their style signals
    only_a = run_microast(model, content, a)
    only_b = run_microast(model, content, b)
    mixed = run_microast(model, content, a, mix=b, mix_share=0.5)
    # Then by the texture statistic of each style, the mix lies between the two single-style results
    to_a = [style_distance(x, a) for x in (only_a, mixed, only_b)]
    to_b = [style_distance(x, b) for x in (only_a, mixed, only_b)]
    print(f"distance to A: {to_a}; to B: {to_b}")
    assert _between(to_a[1], to_a[0], to_a[2]) and _between(to_b[1], to_b[2], to_b[0])
    # And the shares at the ends are the single styles
    assert torch.allclose(run_microast(model, content, a, mix=b, mix_share=0.0), only_a, atol=2e-3)
    assert torch.allclose(run_microast(model, content, a, mix=b, mix_share=1.0), only_b, atol=2e-3)


def _gram_loss(vgg: VGG19Features, image: torch.Tensor, style: torch.Tensor) -> float:
    """The relative Gram-matrix distance of `image` to `style`, summed over the style layers."""
    with torch.no_grad():
        feats, targets = vgg(image, STYLE_LAYERS), vgg(style, STYLE_LAYERS)
    return sum(
        float((gram(feats[n]) - gram(targets[n])).pow(2).sum() / gram(targets[n]).pow(2).sum()) for n in STYLE_LAYERS
    )


@pytest.mark.slow  # three 25-evaluation runs; best mixes through the API in the fast tier (below)
def test_best_half_and_half_lies_between_the_two_styles_by_the_gram_losses(
    random_vgg_env: Path, three: tuple[torch.Tensor, ...]
) -> None:
    # Given the cat and two paintings at 64 px, and VGG19 (seeded random weights in torchvision's layout)
    content, a, b = (imageio.to_tensor(imageio.resize_long_side(imageio.to_image(x), 64)) for x in three)
    vgg = load_vgg19_features()
    config = NSTConfig(evals=(25,), warm_start=False, bf16=False, nnpack=False)
    # When Gatys runs with each style alone, and with their Gram targets mixed 50/50
    only_a, mixed, only_b = (
        run_nst(vgg, content, a, config=config, **kwargs).image  # type: ignore[arg-type]
        for kwargs in ({}, {"mix": b, "mix_share": 0.5}, {"mix": b, "mix_share": 1.0})
    )
    # Then the mix's Gram loss to each style lies between those of the two single-style results
    to_a = [_gram_loss(vgg, x, a) for x in (only_a, mixed, only_b)]
    to_b = [_gram_loss(vgg, x, b) for x in (only_a, mixed, only_b)]
    print(f"Gram loss to A: {to_a}; to B: {to_b}")
    assert _between(to_a[1], to_a[0], to_a[2]) and _between(to_b[1], to_b[2], to_b[0])


def test_the_api_mixes_in_both_qualities_and_refuses_a_share_out_of_range(
    random_vgg_env: Path, cat: Image.Image
) -> None:
    starry, scream = (Image.open(paintings.get_painting(p).file) for p in ("starry_night", "the_scream"))
    for quality in ("quick", "best"):
        out = api.stylize(
            cat, starry, quality=quality, size=64, strength=0.8, keep_colors=True, mix=scream, mix_share=0.3,
            config=NSTConfig(evals=(3,), min_level_side=16),
        )  # fmt: skip
        assert out.size == (64, 43)
    with pytest.raises(ValueError, match="mix_share"):
        api.stylize(cat, starry, quality="quick", size=64, strength=1, keep_colors=False, mix=scream, mix_share=1.5)
