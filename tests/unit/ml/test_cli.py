"""The offline CLI in this process: ``ml.cli.main(argv)`` is what ``python -m ml`` runs (ml/__main__.py), so its
arguments, outputs and errors are checked here without a Python and a torch import per command. The same commands
run as a person runs them, in a subprocess, in tests/integration/test_cli.py (the slow tier, with best quality)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from ml import cli
from ml.vgg import cached_vgg19_features
from tests.ml_helpers import IMAGES

CAT, BRICK, GRAVEL = (str(IMAGES / name) for name in ("chelsea.png", "brick.png", "gravel.png"))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the CLI given argv; argparse's refusals exit with their status."""
    capsys.readouterr()
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def test_quick_stylize_writes_a_jpeg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the sample cat photo and brick texture
    out = tmp_path / "out" / "cat.jpg"
    # When the CLI stylises them
    status, stdout, stderr = _run(
        capsys, "stylize", CAT, "--style", BRICK, "--out", str(out), "--size", "128", "--strength", "0.8"
    )
    # Then it succeeds and writes a 128 px JPEG with the photo's aspect ratio, without metadata
    assert status == 0, stderr
    assert "wrote" in stdout
    img = Image.open(io.BytesIO(out.read_bytes()))
    assert img.format == "JPEG" and img.size == (128, 85)
    assert "exif" not in img.info


def test_missing_vgg_weights_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a weights folder without VGG19 (and no VGG kept from an earlier test)
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("STYLEBOT_MANIFEST", raising=False)
    cached_vgg19_features.cache_clear()
    try:
        status, _, stderr = _run(
            capsys, "stylize", CAT, "--style", BRICK, "--out", str(tmp_path / "x.jpg"), "--quality", "best",
            "--size", "64",
        )  # fmt: skip
    finally:
        cached_vgg19_features.cache_clear()
    assert status == 2
    assert "vgg19-dcbb9e9d.pth" in stderr and "python -m ml weights fetch" in stderr


@pytest.mark.parametrize("content", [b"not an image at all", b""])
def test_bad_image_is_a_clear_error(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    status, _, stderr = _run(capsys, "stylize", str(bad), "--style", BRICK, "--out", str(tmp_path / "o.jpg"))
    assert status == 2
    assert stderr.startswith("error: ") and "Traceback" not in stderr


def test_weights_verify_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, stderr = _run(capsys, "weights", "verify", "microast_content_encoder", "microast_decoder")
    assert status == 0, stderr
    assert stdout.count(": ok") == 2
    _, listing, _ = _run(capsys, "weights", "list")
    assert "vgg19-dcbb9e9d.pth" in listing and "MIT" in listing


def test_stylize_with_a_famous_painting_at_quick_quality(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cat-quick.jpg"
    # When the CLI stylises the cat with The Starry Night, no style file given, with every option
    status, _, stderr = _run(
        capsys, "stylize", CAT, "--painting", "starry_night", "--out", str(out), "--quality", "quick", "--size",
        "64", "--strength", "0.8", "--keep-colors", "--no-progress",
    )  # fmt: skip
    # Then it writes the result, as with a style picture
    assert status == 0, stderr
    assert Image.open(out).size == (64, 43)


def test_paintings_list_and_a_painting_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, listing, stderr = _run(capsys, "paintings", "list")
    assert status == 0, stderr
    rows = [line.split("\t") for line in listing.splitlines()]
    assert [row[0] for row in rows] == [
        "starry_night", "the_scream", "woman_with_a_hat", "the_shipwreck_of_the_minotaur", "the_great_wave", "udnie",
    ]  # fmt: skip
    assert rows[0][1:4] == ["The Starry Night / Звёздная ночь", "Vincent van Gogh", "1889"]
    # A painting that is not there: a clear error naming those that are, before any work
    status, _, stderr = _run(capsys, "stylize", CAT, "--painting", "mona_lisa", "--out", str(tmp_path / "x.jpg"))
    assert status == 2 and "mona_lisa" in stderr and "starry_night" in stderr
    assert "Traceback" not in stderr
    # And --style and --painting are one choice
    status, _, stderr = _run(capsys, "stylize", "a.jpg", "--style", "b.jpg", "--painting", "udnie", "--out", "c.jpg")
    assert status == 2 and "not allowed with" in stderr


def test_stylize_with_a_mix_of_two_styles_at_quick_quality(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outs = {}
    for ratio in ("0.3", "0.0"):
        outs[ratio] = out = tmp_path / f"mix-quick-{ratio}.png"
        # When the CLI stylises the cat with the brick wall mixed with the gravel
        status, _, stderr = _run(
            capsys, "stylize", CAT, "--style", BRICK, "--mix", GRAVEL, "--ratio", ratio, "--out", str(out),
            "--quality", "quick", "--size", "64", "--no-progress",
        )  # fmt: skip
        # Then it writes the result
        assert status == 0, stderr
        assert Image.open(out).size == (64, 43)
    # And the mix shows: 30 % of the gravel is not the brick wall alone
    assert outs["0.3"].read_bytes() != outs["0.0"].read_bytes()
    # A share out of range, or a mix with a preset: a clear error
    status, _, stderr = _run(
        capsys, "stylize", "a.jpg", "--style", "b.jpg", "--mix", "c.jpg", "--ratio", "1.5", "--out", "d.jpg"
    )
    assert status == 2 and "--ratio" in stderr
    status, _, stderr = _run(capsys, "stylize", "a.jpg", "--preset", "monet", "--mix", "c.jpg", "--out", "d.jpg")
    assert status == 2 and "--preset" in stderr
