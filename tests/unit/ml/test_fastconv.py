"""NNPACK convolutions (the fp32 path on CPUs without AVX-512 or bf16): same results as torch's, faster."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ml import device, fastconv
from ml.presets import build_generator
from tests.ml_helpers import needs_nnpack
from tests.unit.ml.test_generators import LAYOUTS, fp32_generator, official_random_state


@needs_nnpack
@pytest.mark.parametrize(("kernel", "padding"), [(3, 1), (3, 0), (7, 0), (5, 2)])
def test_nnpack_convolution_and_its_input_gradient_match_torch(kernel: int, padding: int) -> None:
    # Given a convolution and a copy of it turned into an NNPACK one
    gen = torch.Generator().manual_seed(1)
    plain = nn.Conv2d(8, 6, kernel, padding=padding).requires_grad_(False)
    fast = nn.Sequential(nn.Conv2d(8, 6, kernel, padding=padding)).requires_grad_(False)
    fast[0].load_state_dict(plain.state_dict())
    assert fastconv.use_fast_convs(fast) == 1
    x = torch.randn(1, 8, 56, 60, generator=gen)  # large enough for NNPACK to be used (fastconv.worth_it)
    upstream = torch.randn(plain(x).shape, generator=gen)

    # When both run forward and backward to the input
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = plain(xa), fast(xb)
    (ya * upstream).sum().backward()
    (yb * upstream).sum().backward()

    # Then outputs and input gradients agree to rounding
    torch.testing.assert_close(yb, ya, atol=1e-4, rtol=1e-4)
    assert xa.grad is not None and xb.grad is not None
    torch.testing.assert_close(xb.grad, xa.grad, atol=1e-4, rtol=1e-4)


@needs_nnpack
def test_only_convolutions_nnpack_computes_are_turned_and_the_state_dict_is_unchanged() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),  # turned
        nn.Conv2d(16, 16, 3, stride=2, padding=1),  # strided: stays
        nn.Conv2d(16, 16, 3, padding=1, groups=16),  # depthwise: stays
        nn.Conv2d(16, 8, 1),  # 1x1: stays
        nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1),  # stays
    )
    keys = {k: v.clone() for k, v in model.state_dict().items()}
    with fastconv.fast_convs(model):
        assert [type(m).__name__ for m in model] == ["FastConv2d", "Conv2d", "Conv2d", "Conv2d", "ConvTranspose2d"]
        assert model.state_dict().keys() == keys.keys()
    # And afterwards the model is plain again
    assert type(model[0]) is nn.Conv2d


def test_the_choice_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where bf16 is native (or forced on), that path is faster: no NNPACK
    monkeypatch.setenv("STYLEBOT_BF16", "1")
    assert not fastconv.nnpack_wanted()
    # On the fp32 path, NNPACK where the widest vector ISA is AVX2
    monkeypatch.setenv("STYLEBOT_BF16", "0")
    expected = fastconv.nnpack_ready() and device.vector_isa() == "avx2"
    assert fastconv.nnpack_wanted() == expected


@needs_nnpack
@pytest.mark.parametrize("architecture", sorted(LAYOUTS))
def test_preset_generators_through_nnpack_match_the_eager_model(architecture: str) -> None:
    # Given a preset generator built for the NNPACK path and the eager fp32 one, same weights
    fast = build_generator(architecture, official_random_state(architecture), dtype=torch.float32, nnpack=True)
    assert fast.nnpack
    image = torch.rand(1, 3, 52, 68, generator=torch.Generator().manual_seed(3))

    # When both style the same small image
    with torch.inference_mode():
        a, b = fp32_generator(architecture)(image), fast(image)

    # Then they agree within 0.5 grey levels everywhere (NNPACK's transforms round differently)
    assert float((a - b).abs().max()) * 255 < 0.5


@needs_nnpack
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels_last"])
@pytest.mark.parametrize("kernel", [3, 7])
def test_convolutions_cut_into_strips_compute_what_one_call_computes(
    monkeypatch: pytest.MonkeyPatch, padding_mode: str, channels_last: bool, kernel: int
) -> None:
    # Given a convolution that pads itself (zeros or reflection), turned into an NNPACK one, and an input
    gen = torch.Generator().manual_seed(4)
    plain = nn.Conv2d(8, 6, kernel, padding=kernel // 2, padding_mode=padding_mode).requires_grad_(False)
    fast = nn.Sequential(nn.Conv2d(8, 6, kernel, padding=kernel // 2, padding_mode=padding_mode))
    fast.requires_grad_(False)[0].load_state_dict(plain.state_dict())
    assert fastconv.use_fast_convs(fast) == 1
    x = torch.randn(1, 8, 97, 70, generator=gen)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        whole = fast(x)

    # When NNPACK's workspace may hold only a few rows' worth, so that the map runs in strips with halos
    monkeypatch.setattr(fastconv, "MAX_WORKSPACE_BYTES", fastconv.workspace_bytes(70 * 8, fast[0].weight))
    assert fastconv.strip_rows(1, 97, 70, fast[0].weight) < 97 // 4
    with torch.inference_mode():
        strips = fast(x)

    # Then the result is the one call's, and torch's own convolution's, to rounding
    torch.testing.assert_close(strips, whole, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(strips, plain(x), atol=1e-4, rtol=1e-4)
    assert strips.shape == (1, 6, 97, 70)


@needs_nnpack
def test_the_nnpack_workspace_bound_cuts_large_maps_only() -> None:
    # Given a 3x3 convolution from 128 to 64 channels (AnimeGANv2's decoder) and a 7x7 one (CycleGAN's stem)
    wide, stem = torch.empty(64, 128, 3, 3), torch.empty(64, 3, 7, 7)

    # Then a 512 px photo's maps run in one call, while at 1.7 megapixels they run in strips within the bound
    assert fastconv.strip_rows(1, 384, 512, stem) >= 384
    assert fastconv.strip_rows(1, 384, 512, wide) >= 384
    for weight in (wide, stem):
        rows = fastconv.strip_rows(1, 1132, 1508, weight)
        assert rows < 1132 and rows % 30 == 0
        assert fastconv.workspace_bytes(rows * 1508, weight) <= fastconv.MAX_WORKSPACE_BYTES


def test_transposed_convolutions_in_channels_last_compute_the_same() -> None:
    # Given a transposed convolution (CycleGAN's upsampling) and a copy run in channels_last
    plain = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1).requires_grad_(False)
    model = nn.Sequential(nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1))
    model.requires_grad_(False)[0].load_state_dict(plain.state_dict())
    assert fastconv.transposed_channels_last(model) == 1
    x = torch.randn(1, 16, 23, 30, generator=torch.Generator().manual_seed(6))

    # When both run on a contiguous input
    with torch.inference_mode():
        a, b = plain(x), model(x)

    # Then the results agree to rounding, and the state_dict is unchanged
    torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    assert model[0].state_dict().keys() == plain.state_dict().keys()
