"""The offline CLI, run as a person would: ``python -m ml ...`` in a subprocess, on the sample images.

Slow tier (a Python and a torch import per command, best quality's full default pyramid): the same commands, best
quality aside, run in-process in tests/unit/ml/test_cli.py, and best quality through the API in
tests/unit/ml/test_api.py."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.ml_helpers import IMAGES, VGG_FILENAME, write_manifest_override, write_random_vgg

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STYLEBOT_")}
    full_env = {**inherited, "PYTHONPATH": str(ROOT), "STYLEBOT_THREADS": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ml", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_quick_stylize_writes_a_jpeg(tmp_path: Path) -> None:
    # Given the sample cat photo and brick texture
    out = tmp_path / "out" / "cat.jpg"
    # When the CLI stylises them
    proc = _run(
        ["stylize", str(IMAGES / "chelsea.png"), "--style", str(IMAGES / "brick.png"), "--out", str(out),
         "--size", "128", "--strength", "0.8"]
    )  # fmt: skip
    # Then it succeeds and writes a 128 px JPEG with the photo's aspect ratio, without metadata
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    img = Image.open(io.BytesIO(out.read_bytes()))
    assert img.format == "JPEG" and img.size == (128, 85)
    assert "exif" not in img.info


def test_best_stylize_with_progress_bar(tmp_path: Path) -> None:
    # Given seeded random VGG weights selected through the documented environment variables
    weights_dir = tmp_path / "weights"
    sha = write_random_vgg(weights_dir)
    manifest = tmp_path / "manifest.json"
    write_manifest_override(manifest, sha, (weights_dir / VGG_FILENAME).stat().st_size)
    env = {"STYLEBOT_WEIGHTS_DIR": str(weights_dir), "STYLEBOT_MANIFEST": str(manifest)}
    out = tmp_path / "cat.png"
    # When the best quality runs at a tiny size
    proc = _run(
        ["stylize", str(IMAGES / "chelsea.png"), "--style", str(IMAGES / "brick.png"), "--out", str(out),
         "--quality", "best", "--size", "64", "--keep-colors", "--seed", "1"],
        env,
    )  # fmt: skip
    # Then a PNG is written and the tqdm bar reached 100%
    assert proc.returncode == 0, proc.stderr
    assert "100" in proc.stderr
    assert Image.open(out).size == (64, 43)


def test_missing_vgg_weights_is_a_clear_error(tmp_path: Path) -> None:
    proc = _run(
        ["stylize", str(IMAGES / "chelsea.png"), "--style", str(IMAGES / "brick.png"), "--out",
         str(tmp_path / "x.jpg"), "--quality", "best", "--size", "64"],
        {"STYLEBOT_WEIGHTS_DIR": str(tmp_path / "empty")},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "vgg19-dcbb9e9d.pth" in proc.stderr and "python -m ml weights fetch" in proc.stderr


@pytest.mark.parametrize("content", [b"not an image at all", b""])
def test_bad_image_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    proc = _run(["stylize", str(bad), "--style", str(IMAGES / "brick.png"), "--out", str(tmp_path / "o.jpg")])
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_weights_verify_and_list() -> None:
    proc = _run(["weights", "verify", "microast_content_encoder", "microast_decoder"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok") == 2
    listing = _run(["weights", "list"])
    assert "vgg19-dcbb9e9d.pth" in listing.stdout and "MIT" in listing.stdout


def test_stylize_with_a_famous_painting_in_both_qualities(tmp_path: Path) -> None:
    # Given the seeded random VGG weights (best quality), and the paintings that ship with the package
    weights_dir = tmp_path / "weights"
    sha = write_random_vgg(weights_dir)
    manifest = tmp_path / "manifest.json"
    write_manifest_override(manifest, sha, (weights_dir / VGG_FILENAME).stat().st_size)
    env = {"STYLEBOT_WEIGHTS_DIR": str(weights_dir), "STYLEBOT_MANIFEST": str(manifest)}
    for quality in ("quick", "best"):
        out = tmp_path / f"cat-{quality}.jpg"
        # When the CLI stylises the cat with The Starry Night, no style file given
        proc = _run(
            ["stylize", str(IMAGES / "chelsea.png"), "--painting", "starry_night", "--out", str(out),
             "--quality", quality, "--size", "64", "--strength", "0.8", "--keep-colors", "--no-progress"],
            env,
        )  # fmt: skip
        # Then it writes the result, with every option, as with a style picture
        assert proc.returncode == 0, proc.stderr
        assert Image.open(out).size == (64, 43)


def test_paintings_list_and_a_painting_that_does_not_exist(tmp_path: Path) -> None:
    listing = _run(["paintings", "list"])
    assert listing.returncode == 0, listing.stderr
    rows = [line.split("\t") for line in listing.stdout.splitlines()]
    assert [row[0] for row in rows] == [
        "starry_night", "the_scream", "woman_with_a_hat", "the_shipwreck_of_the_minotaur", "the_great_wave", "udnie",
    ]  # fmt: skip
    assert rows[0][1:4] == ["The Starry Night / Звёздная ночь", "Vincent van Gogh", "1889"]
    # A painting that is not there: a clear error naming those that are, before any work
    proc = _run(["stylize", str(IMAGES / "chelsea.png"), "--painting", "mona_lisa", "--out", str(tmp_path / "x.jpg")])
    assert proc.returncode == 2 and "mona_lisa" in proc.stderr and "starry_night" in proc.stderr
    assert "Traceback" not in proc.stderr
    # And --style and --painting are one choice
    both = _run(["stylize", "a.jpg", "--style", "b.jpg", "--painting", "udnie", "--out", "c.jpg"])
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_stylize_with_a_mix_of_two_styles_in_both_qualities(tmp_path: Path) -> None:
    # Given the seeded random VGG weights (best quality)
    weights_dir = tmp_path / "weights"
    sha = write_random_vgg(weights_dir)
    manifest = tmp_path / "manifest.json"
    write_manifest_override(manifest, sha, (weights_dir / VGG_FILENAME).stat().st_size)
    env = {"STYLEBOT_WEIGHTS_DIR": str(weights_dir), "STYLEBOT_MANIFEST": str(manifest)}
    outs = {}
    for quality, ratio in (("quick", "0.3"), ("quick", "0.0"), ("best", "0.3")):
        outs[quality, ratio] = out = tmp_path / f"mix-{quality}-{ratio}.png"
        # When the CLI stylises the cat with the brick wall mixed 70/30 with the gravel
        proc = _run(
            ["stylize", str(IMAGES / "chelsea.png"), "--style", str(IMAGES / "brick.png"), "--mix",
             str(IMAGES / "gravel.png"), "--ratio", ratio, "--out", str(out), "--quality", quality, "--size", "64",
             "--no-progress"],
            env,
        )  # fmt: skip
        # Then it writes the result
        assert proc.returncode == 0, proc.stderr
        assert Image.open(out).size == (64, 43)
    # And the mix shows: 30 % of the gravel is not the brick wall alone
    assert outs["quick", "0.3"].read_bytes() != outs["quick", "0.0"].read_bytes()
    # A share out of range, or a mix with a preset: a clear error
    bad = _run(["stylize", "a.jpg", "--style", "b.jpg", "--mix", "c.jpg", "--ratio", "1.5", "--out", "d.jpg"])
    assert bad.returncode == 2 and "--ratio" in bad.stderr
    preset = _run(["stylize", "a.jpg", "--preset", "monet", "--mix", "c.jpg", "--out", "d.jpg"])
    assert preset.returncode == 2 and "--preset" in preset.stderr
