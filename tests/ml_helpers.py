"""Shared helpers of the ML tests: fixture paths and seeded random VGG19 weights in torchvision's layout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
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


LAYOUT_FILES = {
    "cyclegan_resnet9": "cyclegan_resnet9_generator_keys.json",
    "animeganv2": "animeganv2_generator_keys.json",
}


def random_checkpoint(architecture: str, path: Path) -> None:
    """Save seeded random tensors in the official layout, as the public checkpoint files are saved."""
    layout = json.loads((REFERENCE / LAYOUT_FILES[architecture]).read_text())
    gen = torch.Generator().manual_seed(11)
    state = {}
    for key, shape in layout.items():
        if len(shape) > 1:
            fan_in = int(torch.tensor(shape[1:]).prod())
            state[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        else:
            state[key] = (1.0 if key.endswith("weight") else 0.0) + 0.1 * torch.randn(shape, generator=gen)
    torch.save(state, path)


def write_preset_weights(folder: Path) -> list[dict[str, object]]:
    """A random checkpoint per preset in `folder`, under its manifest file name; returns their pinned entries."""
    from ml import registry, weights

    folder.mkdir(parents=True, exist_ok=True)
    sources = {}
    for arch in LAYOUT_FILES:
        sources[arch] = folder / f"random_{arch}.pth"
        random_checkpoint(arch, sources[arch])
    entries: list[dict[str, object]] = []
    for p in registry.PRESETS:
        item = weights.entry(p.weights)
        target = folder / item.filename
        if not target.exists():
            target.hardlink_to(sources[p.architecture])
        entries.append(
            {
                "name": item.name,
                "filename": item.filename,
                "url": item.url,
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
                "size": target.stat().st_size,
                "licence": item.licence,
            }
        )
    return entries


def write_test_weights(folder: Path) -> Path:
    """Seeded random weights for every model (VGG19 and the presets) in `folder`, and the manifest override
    (STYLEBOT_MANIFEST) pinning them; returns the override's path. MicroAST's real weights ship in the package."""
    vgg_sha = write_random_vgg(folder)
    manifest = folder / "manifest-override.json"
    write_manifest_override(manifest, vgg_sha, (folder / VGG_FILENAME).stat().st_size)
    entries = json.loads(manifest.read_text()) + write_preset_weights(folder)
    manifest.write_text(json.dumps(entries), encoding="utf-8")
    return manifest


def _nnpack_ready() -> bool:
    from ml import fastconv

    return fastconv.nnpack_ready()


# Tests of the NNPACK path run where torch and the CPU have NNPACK, and say so where they do not.
needs_nnpack = pytest.mark.skipif(not _nnpack_ready(), reason="this torch build or CPU has no NNPACK")


def publish_tiny_weights(folder: Path, *, unpinned: bool = True, base_url: str | None = None) -> Path:
    """A 'remote' of tiny seeded weights files (VGG19 and every preset, under their manifest file names) in
    `folder`/published, and a manifest override (STYLEBOT_MANIFEST) whose URLs point at them (file://, or
    `base_url` + file name: an unreachable server for offline runs). VGG19 is pinned; the presets are unpinned
    like the packaged ones (`unpinned`), else pinned too. Returns the override's path."""
    from ml import registry, weights

    published = folder / "published"
    published.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = []
    for seed, name in enumerate(["vgg19", *(p.weights for p in registry.PRESETS)]):
        item = weights.entry(name)
        path = published / item.filename
        torch.save({"w": torch.randn(16, generator=torch.Generator().manual_seed(seed))}, path)
        data = path.read_bytes()
        pin = name == "vgg19" or not unpinned
        entries.append(
            {
                "name": item.name,
                "filename": item.filename,
                "url": f"{base_url}/{item.filename}" if base_url else path.as_uri(),
                "sha256": hashlib.sha256(data).hexdigest() if pin else None,
                "size": len(data) if pin else None,
                "licence": item.licence,
            }
        )
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps(entries), encoding="utf-8")
    return manifest
