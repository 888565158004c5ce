"""The preset generators: official checkpoint layouts, input/output conventions, norm layers, precision."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from ml import norms
from ml.animeganv2 import AnimeGANv2Generator
from ml.cyclegan import CycleGANGenerator
from ml.norms import InstanceNorm, LayerNorm2d, shared_statistics
from ml.presets import ARCHITECTURES, LoadedGenerator, build_generator

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
LAYOUTS = {
    "cyclegan_resnet9": ("cyclegan_resnet9_generator_keys.json", 11_378_179),
    "animeganv2": ("animeganv2_generator_keys.json", 2_143_552),
}


@functools.cache
def official_random_state(architecture: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Seeded random tensors with exactly the keys and shapes of the public checkpoint (from the JSON).

    Cached: callers must not modify the dict they get.
    """
    layout = json.loads((REFERENCE / LAYOUTS[architecture][0]).read_text())
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in layout.items():
        if len(shape) > 1:
            fan_in = 1
            for d in shape[1:]:
                fan_in *= d
            state[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        elif key.endswith("weight"):
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:
            state[key] = 0.1 * torch.randn(shape, generator=gen)
    return state


@functools.cache
def fp32_generator(architecture: str) -> LoadedGenerator:
    return build_generator(architecture, official_random_state(architecture), dtype=torch.float32, channels_last=False)


@pytest.mark.parametrize("architecture", sorted(LAYOUTS))
def test_official_layout_loads_strictly_into_our_class(architecture: str) -> None:
    # Given tensors laid out exactly as the public checkpoint of this architecture
    state = official_random_state(architecture)
    model = ARCHITECTURES[architecture]()

    # When they are loaded strictly
    result = model.load_state_dict(state, strict=True)

    # Then nothing is missing or unexpected, every shape matches, and the tensors are the ones given
    assert not result.missing_keys and not result.unexpected_keys
    ours = model.state_dict()
    assert {k: list(v.shape) for k, v in ours.items()} == {k: list(v.shape) for k, v in state.items()}
    assert sum(v.numel() for v in ours.values()) == LAYOUTS[architecture][1]
    assert all(torch.equal(ours[k], state[k]) for k in state)


def test_cyclegan_checkpoint_with_old_instance_norm_statistics_still_loads() -> None:
    # Given a CycleGAN checkpoint as old torch versions saved it, with InstanceNorm running statistics
    state = dict(official_random_state("cyclegan_resnet9"))
    state["model.2.running_mean"] = torch.zeros(64)
    state["model.2.running_var"] = torch.ones(64)

    # When it is prepared and loaded the way presets load weights
    gen = build_generator("cyclegan_resnet9", state, dtype=torch.float32)

    # Then it loads, with the real parameters in place
    assert torch.equal(gen.model.state_dict()["model.1.weight"], state["model.1.weight"])


@pytest.mark.parametrize("architecture", sorted(LAYOUTS))
@pytest.mark.parametrize(("height", "width"), [(17, 23), (33, 50), (61, 45), (64, 64)])
def test_output_has_the_exact_size_of_the_input(architecture: str, height: int, width: int) -> None:
    # Given a generator and an image whose sides are not multiples of its total stride
    gen = fp32_generator(architecture)
    image = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(height))

    # When it styles the image
    with torch.inference_mode():
        out = gen(image)

    # Then the result has the input's exact size, is a valid RGB image and is not the input
    assert out.shape == (1, 3, height, width)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert (out - image).abs().mean() > 0.01


@pytest.mark.parametrize("architecture", sorted(LAYOUTS))
def test_padding_crops_back_to_what_the_network_computes_on_the_padded_image(architecture: str) -> None:
    # Given an odd-sized image and the same image reflection-padded to a multiple of 4 by hand
    gen = fp32_generator(architecture)
    image = torch.rand(1, 3, 37, 42, generator=torch.Generator().manual_seed(3))
    padded = torch.nn.functional.pad(image * 2 - 1, (0, 2, 0, 3), mode="reflect")

    # When both go through the model (ours pads and crops by itself)
    with torch.inference_mode():
        ours = gen(image)
        by_hand = (gen.model(padded)[..., :37, :42] * 0.5 + 0.5).clamp(0, 1)

    # Then the top-left crop of the padded result is exactly what we return
    torch.testing.assert_close(ours, by_hand, atol=1e-5, rtol=0)


def test_cyclegan_conventions_map_unit_range_to_tanh_range_and_back() -> None:
    # Given RGB values at the ends and middle of [0, 1]
    rgb = torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1)

    # When mapped to the model's input range and back through the output convention
    model_in = CycleGANGenerator.to_input(rgb)
    back = CycleGANGenerator.to_rgb01(model_in)

    # Then [0, 1] becomes [-1, 1] and returns unchanged; AnimeGANv2 uses the same range
    assert model_in.flatten().tolist() == [-1.0, 0.0, 1.0]
    assert torch.equal(back, rgb)
    assert torch.equal(AnimeGANv2Generator.to_input(rgb), model_in)


def test_instance_norm_matches_torch_in_every_mode() -> None:
    # Given a feature map and torch's InstanceNorm2d without affine parameters
    x = torch.randn(1, 8, 12, 10, generator=torch.Generator().manual_seed(0)) * 3 + 1
    expected = nn.InstanceNorm2d(8)(x)
    ours = nn.Sequential(InstanceNorm())

    # When ours runs plainly, while recording statistics, and with the recorded statistics frozen
    plain = ours(x)
    with shared_statistics(ours):
        recorded = ours(x)
        frozen = ours(x)

    # Then all three equal torch's result, and it has no state_dict entries (like the checkpoints)
    for got in (plain, recorded, frozen):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert ours.state_dict() == {}


def test_layer_norm_matches_single_group_group_norm_in_every_mode() -> None:
    # Given a feature map and torch's GroupNorm(1, C) with non-trivial affine parameters
    x = torch.randn(1, 6, 9, 11, generator=torch.Generator().manual_seed(1)) * 2 - 1
    reference = nn.GroupNorm(1, 6)
    ours = LayerNorm2d(6)
    with torch.no_grad():
        reference.weight.normal_()
        reference.bias.normal_()
    ours.load_state_dict(reference.state_dict())

    # When ours runs plainly, while recording, and frozen; the frozen statistics then serve another input
    with torch.no_grad():
        expected = reference(x)
        plain = ours(x)
        with shared_statistics(ours):
            recorded = ours(x)
            frozen_other = ours(x[..., :5])

    # Then results equal GroupNorm's, and the frozen pass normalised the crop with the whole map's statistics
    torch.testing.assert_close(plain, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(recorded, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(frozen_other, expected[..., :5], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("architecture", sorted(LAYOUTS))
def test_bfloat16_channels_last_stays_close_to_float32(architecture: str) -> None:
    # Given the same weights in float32 and in bfloat16 with channels_last
    state = official_random_state(architecture)
    fp32 = fp32_generator(architecture)
    bf16 = build_generator(architecture, state, dtype=torch.bfloat16, channels_last=True)
    image = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(5))

    # When both style the same image
    with torch.inference_mode():
        a, b = fp32(image), bf16(image)

    # Then the results agree to a few grey levels on average
    diff = (a - b).abs()
    assert diff.mean() * 255 < 4.0
    assert b.dtype == torch.float32 and b.shape == a.shape


@pytest.mark.parametrize("norm", [InstanceNorm(), LayerNorm2d(8)], ids=["instance", "layer"])
def test_shared_statistics_work_in_bfloat16_channels_last(norm: nn.Module) -> None:
    # Given a norm layer in bfloat16 and a channels_last bfloat16 feature map (the fast CPU path)
    layer = nn.Sequential(norm).to(torch.bfloat16)
    x = torch.randn(1, 8, 10, 12, generator=torch.Generator().manual_seed(2))
    x = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)

    # When statistics are recorded on the whole map and then applied to a crop of it
    with torch.inference_mode():
        plain = layer(x)
        with shared_statistics(layer):
            layer(x)
            crop = layer(x[..., :6])

    # Then the crop is normalised as it was inside the whole map, still in bfloat16
    assert crop.dtype == torch.bfloat16
    torch.testing.assert_close(crop.float(), plain[..., :6].float(), atol=0.05, rtol=0.02)


@pytest.mark.parametrize("norm", [InstanceNorm, functools.partial(LayerNorm2d, 8)], ids=["instance", "layer"])
def test_in_place_norms_compute_the_same_and_touch_their_input_only_without_gradients(
    norm: Callable[..., nn.Module], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a norm layer made to work in place (on maps of any size here), the same layer out of place, and a map
    monkeypatch.setattr(norms, "INPLACE_MIN_ELEMENTS", 0)
    inplace, plain = norm(inplace=True), norm()
    with torch.no_grad():
        for p in inplace.parameters():
            p.normal_()
    plain.load_state_dict(inplace.state_dict())
    x = torch.randn(1, 8, 11, 13, generator=torch.Generator().manual_seed(3)).contiguous(
        memory_format=torch.channels_last
    )

    # When each runs plainly, recording statistics and with them frozen, on copies of the map, without gradients
    results = []
    for layer in (plain, inplace):
        with torch.inference_mode():
            got = [layer(x.clone())]
            with shared_statistics(layer):
                got += [layer(x.clone()), layer(x[..., :7].clone())]
        results.append(got)

    # Then the results agree, the in-place layer returned its own input, and with gradients it copies
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    y = x.clone()
    with torch.inference_mode():
        assert inplace(y) is y
    z = x.clone().requires_grad_(True)
    assert inplace(z) is not z and torch.equal(z.detach(), x)
    # And below the size threshold (a 512 px photo's maps) torch's own kernels run, out of place
    monkeypatch.setattr(norms, "INPLACE_MIN_ELEMENTS", x.numel() + 1)
    with torch.inference_mode():
        assert inplace(y) is not y


def test_animeganv2_flat_forward_is_the_blocks_in_sequence() -> None:
    # Given the AnimeGANv2 generator (it runs its layers in one flat loop) and an image
    gen = fp32_generator("animeganv2")
    model = gen.model
    assert isinstance(model, AnimeGANv2Generator)
    x = torch.rand(1, 3, 40, 52, generator=torch.Generator().manual_seed(8)) * 2 - 1

    # When it runs, and the port's forward runs on the same blocks: a, b, c, upsample, d, upsample, e, out
    def up(t: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(t, scale_factor=2.0, mode="bilinear", align_corners=False)

    with torch.inference_mode():
        flat = model(x)
        nested = model.out_layer(model.block_e(up(model.block_d(up(model.block_c(model.block_b(model.block_a(x))))))))

    # Then both are the same
    torch.testing.assert_close(flat, nested, atol=1e-6, rtol=0)
