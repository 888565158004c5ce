from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

from ml import imageio
from ml.vgg import cached_vgg19_features
from tests.ml_helpers import IMAGES, VGG_FILENAME, write_manifest_override, write_random_vgg


@pytest.fixture(scope="session")
def random_vgg_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A weights folder with seeded random VGG19 weights, selected through the documented environment
    variables (STYLEBOT_WEIGHTS_DIR and a STYLEBOT_MANIFEST override that pins their hash)."""
    folder = tmp_path_factory.mktemp("weights")
    sha = write_random_vgg(folder)
    manifest = folder / "manifest-override.json"
    write_manifest_override(manifest, sha, (folder / VGG_FILENAME).stat().st_size)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLEBOT_WEIGHTS_DIR", str(folder))
        mp.setenv("STYLEBOT_MANIFEST", str(manifest))
        cached_vgg19_features.cache_clear()
        yield folder
        cached_vgg19_features.cache_clear()


@pytest.fixture(scope="session")
def cat() -> Image.Image:
    return imageio.open_image(IMAGES / "chelsea.png")


@pytest.fixture(scope="session")
def brick() -> Image.Image:
    return imageio.open_image(IMAGES / "brick.png")


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    """Two intra-op threads, as on the 2-core machines the figures are for; under pytest-xdist, the worker's share
    of the CPUs (tests/conftest.py), as two workers with two spinning threads each on two cores run slower."""
    torch.set_num_threads(int(os.environ["STYLEBOT_THREADS"]) if os.environ.get("PYTEST_XDIST_WORKER_COUNT") else 2)
