"""Shared helpers of the ML tests: fixture paths and seeded random VGG19 weights in torchvision's layout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

FIXTURES = Path(__file__).resolve().parent / "fixtures"
IMAGES = FIXTURES / "images"
REFERENCE = FIXTURES / "reference"
VGG_FILENAME = "vgg19-dcbb9e9d.pth"


def reference_layout(name: str) -> dict[str, list[int]] | dict[str, dict[str, list[int]]]:
    data: dict[str, list[int]] | dict[str, dict[str, list[int]]] = json.loads(
        (REFERENCE / name).read_text(encoding="utf-8")
    )
    return data


def write_random_vgg(folder: Path, *, seed: int = 0) -> str:
    """Write a seeded random ``vgg19-dcbb9e9d.pth`` holding every ``features.*`` tensor of the official
    layout (the classifier is left out to keep the file small); return its SHA-256."""
    layout = reference_layout("torchvision_vgg19_keys.json")
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, shape in layout.items():
        if not key.startswith("features."):
            continue
        assert isinstance(shape, list)
        if key.endswith(".bias"):
            state[key] = torch.zeros(shape)
        else:
            fan_out = shape[0] * shape[2] * shape[3]
            state[key] = torch.randn(shape, generator=generator) * (2.0 / fan_out) ** 0.5
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / VGG_FILENAME
    torch.save(state, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest_override(path: Path, sha256: str, size: int) -> None:
    """A manifest (the documented ``STYLEBOT_MANIFEST`` override) pinning the random VGG file's real hash."""
    entry = {
        "name": "vgg19",
        "filename": VGG_FILENAME,
        "url": "file:///nonexistent/vgg19-dcbb9e9d.pth",
        "sha256": sha256,
        "size": size,
        "licence": "test weights (seeded random)",
    }
    path.write_text(json.dumps([entry]), encoding="utf-8")
