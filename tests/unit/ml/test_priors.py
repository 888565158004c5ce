"""Time priors: what a job is expected to take before it starts, and the first progress report that quotes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ml import priors
from ml.api import stylize
from ml.errors import WeightsError
from ml.progress import Progress


def test_priors_scale_with_pixels_per_kind_and_path() -> None:
    best = priors.expected_seconds("best", 512, path="fp32+nnpack")
    assert priors.expected_seconds("best", 1024, path="fp32+nnpack") == pytest.approx(4 * best)
    assert priors.expected_seconds("best", 512, path="bf16") < best < priors.expected_seconds("best", 512, path="fp32")
    # quick always works at 512 px at least, so a smaller picture takes as long
    assert priors.expected_seconds("quick", 256, path="fp32") == priors.expected_seconds("quick", 512, path="fp32")
    # presets differ by architecture; a cold worker adds its start
    cyclegan = priors.expected_seconds("preset", 512, path="fp32", architecture="cyclegan_resnet9")
    assert cyclegan > priors.expected_seconds("preset", 512, path="fp32", architecture="animeganv2")
    assert priors.expected_seconds("preset", 512, path="fp32", architecture="cyclegan_resnet9", cold=True) > cyclegan
    with pytest.raises(ValueError, match="architecture"):
        priors.expected_seconds("preset", 512, path="fp32")


def test_priors_can_be_read_without_torch() -> None:
    # The conversation (no torch) may quote them
    code = "import sys, ml.priors as p; p.expected_seconds('best', 512, path='bf16'); print('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"


def test_the_first_report_comes_before_any_weights_are_read_and_quotes_the_prior(
    cat: Image.Image, brick: Image.Image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml.vgg import cached_vgg19_features

    # Given a worker whose VGG weights are missing
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path))
    cached_vgg19_features.cache_clear()
    reports: list[Progress] = []
    loading = 0.0 if "ml.engine" in sys.modules else priors.ENGINE_LOAD_SECONDS  # a worker's first job imports it
    # When a best-quality job starts
    with pytest.raises(WeightsError):
        stylize(cat, brick, quality="best", size=96, strength=1.0, keep_colors=False, progress=reports.append)
    cached_vgg19_features.cache_clear()
    # Then the user already saw 0 % with an estimate of the time it takes
    assert len(reports) == 1
    assert reports[0].fraction == 0.0
    aspect = max(cat.size) / min(cat.size)
    assert reports[0].eta_seconds == pytest.approx(priors.expected_seconds("best", 96, aspect=aspect) + loading)


def test_a_square_photo_is_expected_to_take_longer_than_a_wide_one() -> None:
    # Given the same long side: a square photo has 1.5x the pixels of a 3:2 one, and the work grows with them
    wide = priors.expected_seconds("best", 512, path="fp32")
    square = priors.expected_seconds("best", 512, path="fp32", aspect=1.0)
    assert wide == pytest.approx(priors.SECONDS_AT_512["best"]["fp32"])
    assert square == pytest.approx(1.5 * wide)
