"""Tiling: grid geometry, blending weights, and tiled == untiled for the real generators."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ml.imageio import open_image, resize_long_side, to_tensor
from ml.norms import shared_statistics
from ml.presets import LoadedGenerator, Tiling, build_generator, run_generator
from ml.tiling import axis_windows, pad_to_multiple, ramp, run_tiled, tile_starts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LAYOUT_FILES = {
    "cyclegan_resnet9": "cyclegan_resnet9_generator_keys.json",
    "animeganv2": "animeganv2_generator_keys.json",
}


@functools.cache
def generator(architecture: str) -> LoadedGenerator:
    """A float32 generator with seeded random weights in the official layout."""
    layout = json.loads((FIXTURES / "reference" / LAYOUT_FILES[architecture]).read_text())
    gen = torch.Generator().manual_seed(7)
    state = {}
    for key, shape in layout.items():
        if len(shape) > 1:
            fan_in = torch.tensor(shape[1:]).prod().item()
            state[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        else:
            base = 1.0 if key.endswith("weight") else 0.0
            state[key] = base + 0.1 * torch.randn(shape, generator=gen)
    return build_generator(architecture, state, dtype=torch.float32, channels_last=False)


@functools.cache
def photo() -> torch.Tensor:
    """The cat photo at 300 x 200: small enough to run untiled, large enough for a 3 x 2 grid of tiles."""
    return to_tensor(resize_long_side(open_image(FIXTURES / "images" / "chelsea.png"), 300))


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(1, 5000),
    tile_units=st.integers(4, 64),
    overlap_units=st.integers(1, 32),
)
def test_tiles_cover_every_pixel_on_an_aligned_grid(length: int, tile_units: int, overlap_units: int) -> None:
    # Given any length and a tile size and overlap (multiples of the alignment, overlap below the tile size)
    tile, overlap = tile_units * 4, min(overlap_units, tile_units - 2) * 4

    # When the tiles along that length are laid out
    spans = tile_starts(length, tile, overlap, align=4)

    # Then they start on the grid, stay inside, cover everything, and neighbours overlap by at least `overlap`
    assert spans[0][0] == 0 and spans[-1][0] + spans[-1][1] == length
    for (s0, n0), (s1, _) in itertools.pairwise(spans):
        assert s1 % 4 == 0 and s0 < s1
        assert s0 + n0 - s1 >= overlap
    assert all(size <= max(tile + 3, length if len(spans) == 1 else 0) for _, size in spans)


@pytest.mark.parametrize("overlap", [4, 8, 64, 128, 132])
def test_blending_ramps_of_two_neighbours_sum_to_one(overlap: int) -> None:
    # Given the rising ramp of an overlap
    r = ramp(overlap)

    # When it is added to the falling ramp of the neighbour
    total = r + r.flip(0)

    # Then every overlap pixel gets full weight, and the quarter next to each tile edge gets none from it
    torch.testing.assert_close(total, torch.ones(overlap, dtype=torch.float64))
    assert r[: overlap // 4].abs().max() == 0 if overlap >= 4 else True
    assert (r[1:] >= r[:-1]).all()


def test_windows_of_a_grid_with_an_irregular_last_tile_sum_to_one_everywhere() -> None:
    # Given the tiles of a length off the grid (the last tile is longer and overlaps differently)
    spans = tile_starts(1001, 256, 64, align=4)
    windows = axis_windows(spans)

    # When their windows are summed along the axis
    total = torch.zeros(1001, dtype=torch.float64)
    for (start, size), w in zip(spans, windows, strict=True):
        total[start : start + size] += w

    # Then the sum is one everywhere: the blend neither darkens nor brightens any pixel
    torch.testing.assert_close(total, torch.ones(1001, dtype=torch.float64))


def test_tiling_an_identity_model_returns_the_image_unchanged() -> None:
    # Given an image and a model that returns its input
    image = photo()

    # When the image goes through the tiler with small overlapping tiles
    out = run_tiled(lambda t: t, image, tile=64, overlap=16, align=4)

    # Then blending the tiles gives back the exact image
    torch.testing.assert_close(out, image, atol=1e-6, rtol=0)


def test_padding_reaches_the_multiple_and_keeps_the_original_pixels() -> None:
    # Given an odd-sized tensor
    x = torch.rand(1, 3, 17, 23)

    # When it is padded to a multiple of 4, and a tiny one to a minimum size
    padded = pad_to_multiple(x, 4)
    tiny = pad_to_multiple(torch.rand(1, 3, 2, 3), 4, minimum=16)

    # Then the sizes are the next multiples and the original sits in the top-left corner
    assert padded.shape[-2:] == (20, 24)
    assert torch.equal(padded[..., :17, :23], x)
    assert tiny.shape[-2:] == (16, 16)


@pytest.mark.parametrize("architecture", sorted(LAYOUT_FILES))
def test_tiled_result_equals_untiled_within_a_small_tolerance(architecture: str) -> None:
    # Given a generator and a photo it can process in one pass
    gen, image = generator(architecture), photo()
    untiled = run_generator(gen, image, tiling=Tiling(max_untiled_pixels=10**9))

    # When the same photo is processed in 192 px tiles (3 x 2 grid), statistics from the whole image
    tiled = run_generator(gen, image, tiling=Tiling(max_untiled_pixels=0, tile=192, overlap=96, stats_pixels=10**9))

    # Then the results differ by a fraction of a grey level on average and nowhere by much
    diff = (tiled - untiled).abs() * 255
    assert tiled.shape == untiled.shape
    assert diff.mean() < 0.25
    assert diff.max() < 4.0


@pytest.mark.slow  # tiled runs with and without shared statistics; tiled = untiled stays in the fast tier
def test_shared_statistics_are_what_keeps_tiles_consistent() -> None:
    # Given the CycleGAN generator and tiles that each see a different part of a 200 x 152 crop
    gen, image = generator("cyclegan_resnet9"), photo()[..., :152, :200]

    # When tiles are normalised each with its own statistics, then with statistics shared from the whole image
    own, shared = [], []
    with torch.inference_mode():
        run_tiled(gen, image, tile=128, overlap=64, align=4, disagreement=own)
        with shared_statistics(gen.model):
            gen(image)
            run_tiled(gen, image, tile=128, overlap=64, align=4, disagreement=shared)

    # Then neighbouring tiles disagree far less (a seam of a grey level or two, smoothed by the blend)
    assert len(own) == len(shared) == 7  # 3 x 2 tiles
    assert max(shared) < 4.0
    assert sum(own) > 5 * sum(shared)
