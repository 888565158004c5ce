"""`sam build` without Docker: Dockerfile.lambda's build stage rehearsed on this host (tests/deploy/rehearsal.py),
with PATH limited to the commands the base image has, the locked wheels installed for the image's platform, the
weights fetched from a local manifest of seeded random test weights, bytecode compiled, and every handler
imported. The real build runs in tests/deploy/test_sam_docker.py where Docker exists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.lambda_emulator import ROOT
from ml import paintings, registry, weights
from tests.deploy.rehearsal import DOCKERFILE, Rehearsal, commands_the_base_image_lacks, rehearse
from tests.ml_helpers import publish_tiny_weights, write_test_weights

pytestmark = pytest.mark.slow

UNREACHABLE = registry.PRESETS[1]  # a preset whose download fails (in the build that must then fail)
TRUSTED_ON_FIRST_USE = registry.PRESETS[0]  # a preset the manifest gives no hash for


def test_every_run_line_calls_only_commands_the_base_image_has() -> None:
    # Given the commands the Lambda Python 3.12 base image (Amazon Linux 2023 minimal) has on its PATH
    # When every RUN line of Dockerfile.lambda is read
    lacking = commands_the_base_image_lacks(DOCKERFILE.read_text())
    # Then none calls a command the image lacks (`find` did, and `sam build` stopped with exit 127)
    assert not lacking, f"Dockerfile.lambda calls commands the base image does not have: {lacking}"


def _manifest(folder: Path) -> Path:
    """The test weights as a manifest a build downloads from (file:// URLs): one preset with no pinned hash."""
    source = folder / "published"
    override = write_test_weights(source)
    entries = json.loads(override.read_text())
    for item in entries:
        item["url"] = (source / item["filename"]).as_uri()
        if item["name"] == TRUSTED_ON_FIRST_USE.weights:
            item["sha256"] = item["size"] = None
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps(entries))
    return manifest


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Rehearsal, int]]:
    root = tmp_path_factory.mktemp("image")
    manifest = _manifest(tmp_path_factory.mktemp("weights-source"))
    yield rehearse(root, extra_env={weights.MANIFEST_ENV: str(manifest)})


def test_the_build_stage_runs_with_only_the_base_image_commands(build: tuple[Rehearsal, int]) -> None:
    # Given the build stage carried out as Dockerfile.lambda writes it (see the fixture)
    rehearsal, status = build
    # Then every step succeeded, the import smoke test of every function's command included
    assert status == 0, rehearsal.output()[-6000:]
    assert (rehearsal.asset / "handler" / "webhook.py").is_file() and (rehearsal.asset / "torch").is_dir()
    # And bytecode was compiled for the read-only /var/task, torch's included
    assert list((rehearsal.asset / "handler" / "__pycache__").glob("webhook.*.pyc"))
    assert list((rehearsal.asset / "torch" / "__pycache__").glob("__init__.*.pyc"))
    # And the parts of torch only its own builds and tests use are gone
    assert not (rehearsal.asset / "torch" / "include").exists()


def test_every_locked_wheel_installs_for_the_image_platform(build: tuple[Rehearsal, int]) -> None:
    rehearsal, status = build
    assert status == 0, rehearsal.output()[-6000:]
    # Then the hash-checked lock installed for CPython 3.12 on manylinux x86_64
    installed = Path(rehearsal.env["REHEARSAL_PLATFORM_TARGET"])
    compiled = sorted(p.name for p in installed.glob("pydantic_core/_pydantic_core.*.so"))
    assert compiled and all("cpython-312-x86_64-linux-gnu" in name for name in compiled), compiled
    assert (installed / "telegram").is_dir() and (installed / "numpy").is_dir()


def test_every_preset_is_in_the_image_and_offered(build: tuple[Rehearsal, int]) -> None:
    rehearsal, status = build
    assert status == 0, rehearsal.output()[-6000:]
    # Then the image's SHA256SUMS lists VGG19 and every preset
    sums = (rehearsal.weights / "SHA256SUMS").read_text()
    assert weights.entry("vgg19").filename in sums
    assert all(weights.entry(p.weights).filename in sums for p in registry.PRESETS)
    # And `sha256sum -c` (in the base image) confirms every file it lists
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=rehearsal.weights, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # And in the built image the catalogue offers every preset, each with its preview
    offered = _in_image("from ml import registry; print(' '.join(p.id for p in registry.available()))", rehearsal)
    assert offered.split() == [p.id for p in registry.PRESETS]
    assert sorted(p.stem for p in (rehearsal.weights / "previews").glob("*.jpg")) == sorted(offered.split())


def test_the_image_build_fails_naming_the_file_of_a_preset_that_cannot_be_fetched(tmp_path: Path) -> None:
    # Given the build's weights step as Dockerfile.lambda runs it, and a preset whose download fails
    manifest = publish_tiny_weights(tmp_path)
    (tmp_path / "published" / weights.entry(UNREACHABLE.weights).filename).unlink()
    (command,) = [line for line in DOCKERFILE.read_text().splitlines() if "python -m ml weights fetch-image" in line]
    assert command.split("PYTHONPATH=/asset ")[1].split(" \\")[0] == "python -m ml weights fetch-image"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYLEBOT_")}
    env |= {"PYTHONPATH": str(ROOT), weights.MANIFEST_ENV: str(manifest), "STYLEBOT_WEIGHTS_DIR": str(tmp_path / "w")}
    # When it runs
    run = subprocess.run(
        [sys.executable, "-m", "ml", "weights", "fetch-image"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    # Then the build fails, naming the file, and no SHA256SUMS claims an image
    assert run.returncode != 0
    assert weights.entry(UNREACHABLE.weights).filename in run.stderr.splitlines()[-1], run.stderr
    assert not (tmp_path / "w" / "SHA256SUMS").exists()


def test_the_famous_paintings_and_their_previews_are_in_the_image_and_offered(build: tuple[Rehearsal, int]) -> None:
    rehearsal, status = build
    assert status == 0, rehearsal.output()[-6000:]
    # Then the image holds every painting and its preview, as committed (nothing of them is downloaded)
    folder = rehearsal.asset / paintings.PAINTINGS_DIR.relative_to(paintings.PAINTINGS_DIR.parents[2])  # ml/assets/…
    for p in paintings.PAINTINGS:
        assert (folder / p.file.name).read_bytes() == p.file.read_bytes()
        assert (folder / "previews" / p.preview.name).read_bytes() == p.preview.read_bytes()
    # And the catalogue in the image offers all six
    offered = _in_image("from ml import paintings; print(' '.join(p.id for p in paintings.available()))", rehearsal)
    assert offered.split() == [p.id for p in paintings.PAINTINGS]


def test_a_preset_without_a_pinned_hash_is_trusted_once_and_its_hash_printed(build: tuple[Rehearsal, int]) -> None:
    rehearsal, status = build
    assert status == 0, rehearsal.output()[-6000:]
    item = weights.entry(TRUSTED_ON_FIRST_USE.weights)
    (line,) = [x for x in rehearsal.output().splitlines() if x.startswith(f"WARNING: {item.name} ")]
    assert "trusted on first download" in line and "review and commit the pin" in line
    assert item.filename in (rehearsal.weights / "SHA256SUMS").read_text()


def test_the_image_checks_weights_by_size_against_the_build_sums(build: tuple[Rehearsal, int]) -> None:
    rehearsal, status = build
    assert status == 0, rehearsal.output()[-6000:]
    # Given the built image's VGG19, listed in SHA256SUMS; When a worker resolves it, no hash is computed
    probe = (
        "import ml.weights as w; w.sha256_file = None; "  # hashing would fail: it must not happen
        "print(w.resolve('vgg19').name)"
    )
    assert _in_image(probe, rehearsal) == weights.entry("vgg19").filename
    # And a file of the wrong size is refused all the same
    vgg = rehearsal.weights / weights.entry("vgg19").filename
    original = vgg.read_bytes()
    try:
        vgg.write_bytes(original + b"\0")
        with pytest.raises(AssertionError, match="bytes, expected"):
            _in_image("import ml.weights as w; w.resolve('vgg19')", rehearsal)
    finally:
        vgg.write_bytes(original)


def _in_image(code: str, rehearsal: Rehearsal) -> str:
    """Run `code` with the built image's Python path and weights (this host's interpreter)."""
    result = subprocess.run(
        ["python", "-c", code],
        env={**rehearsal.env, "PYTHONPATH": str(rehearsal.asset)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()
