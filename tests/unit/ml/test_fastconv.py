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
