from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ml.microast import MicroAST, load_microast
from ml.vgg import LAYER_NAMES, VGG19Features, load_vgg19_features
from tests.ml_helpers import reference_layout


def _shapes(module: torch.nn.Module) -> dict[str, list[int]]:
    return {key: list(t.shape) for key, t in module.state_dict().items()}


def test_vgg_features_match_torchvision_layout() -> None:
    # Given torchvision's VGG19 layout, When our full feature stack is built, Then its keys and shapes are
    # exactly the features.* part of it
    official = {k: v for k, v in reference_layout("torchvision_vgg19_keys.json").items() if k.startswith("features.")}
    assert _shapes(VGG19Features("relu5_4")) == official
    assert LAYER_NAMES[1] == "relu1_1" and LAYER_NAMES[22] == "relu4_2" and LAYER_NAMES[29] == "relu5_1"


def test_vgg_is_cut_after_the_last_layer_used() -> None:
    model = VGG19Features("relu5_1")
    assert len(model.features) == 30
    assert max(int(k.split(".")[1]) for k in model.state_dict()) == 28


def test_vgg_loads_a_full_torchvision_checkpoint() -> None:
    # Given a checkpoint with every key of torchvision's VGG19, the classifier included
    layout = reference_layout("torchvision_vgg19_keys.json")
    state: dict[str, torch.Tensor] = {}
    for key, shape in layout.items():
        assert isinstance(shape, list)
        # the classifier's big matrices are left empty-sized to keep the test light; their keys are present
        state[key] = torch.full(shape, 0.5) if key.startswith("features.") else torch.zeros(0)
    # When our cut feature extractor loads it, Then the features it uses are taken and the rest ignored
    model = VGG19Features("relu4_2")
    model.load_torchvision_state_dict(state)
    assert torch.equal(model.features[0].bias, torch.full((64,), 0.5))
    assert not any(k.startswith("classifier") for k in model.state_dict())


def test_vgg_takes_the_loaded_tensors_without_copying_or_initialising() -> None:
    # Given a VGG19 built empty (on the meta device: no memory, no random initialisation)
    model = VGG19Features("relu1_2", empty=True)
    assert all(p.is_meta for p in model.parameters())
    state = {k: torch.randn(v.shape) for k, v in model.state_dict().items()}
    # When the checkpoint loads into it
    model.load_torchvision_state_dict(state)
    # Then its parameters are the loaded tensors themselves (a memory-mapped file is read only where used)
    assert model.features[0].weight.data_ptr() == state["features.0.weight"].data_ptr()
    out = model(torch.rand(1, 3, 8, 8), ("relu1_2",))["relu1_2"]
    assert out.shape == (1, 64, 8, 8) and torch.isfinite(out).all()


def test_vgg_refuses_an_incomplete_checkpoint() -> None:
    with pytest.raises(ValueError, match=r"features\.28\.weight"):
        VGG19Features("relu5_1").load_torchvision_state_dict({"features.0.weight": torch.zeros(64, 3, 3, 3)})


def test_vgg_loads_through_the_manifest(random_vgg_env: Path) -> None:
    # Given seeded random weights in the official file name, pinned by a manifest override
    model = load_vgg19_features("relu5_1")
    feats = model(torch.rand(1, 3, 64, 64), ("relu1_1", "relu5_1"))
    assert feats["relu1_1"].shape == (1, 64, 64, 64)
    assert feats["relu5_1"].shape == (1, 512, 4, 4)


def test_microast_matches_official_layout() -> None:
    official = reference_layout("microast_keys.json")
    model = MicroAST()
    for part, module in model.parts().items():
        assert _shapes(module) == official[part], part
    assert 460_000 < sum(p.numel() for p in model.parameters()) < 480_000


def test_microast_loads_the_real_weights() -> None:
    # When the four published state dicts are loaded (strictly, hashes verified), Then they are not the
    # random initialisation: the first conv equals the file's tensor
    model = load_microast()
    from ml import weights

    state = weights.load_state_dict("microast_content_encoder")
    assert torch.equal(
        model.content_encoder.state_dict()["enc1.0.conv_layer.weight"], state["enc1.0.conv_layer.weight"]
    )
