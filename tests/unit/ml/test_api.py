from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from ml import imageio
from ml.api import stylize
from ml.color import rgb_to_ycbcr
from ml.errors import JobCancelled
from ml.nst import NSTConfig
from ml.progress import Progress
from tests.ml_helpers import IMAGES


def _chroma_gap(a: Image.Image, b: Image.Image) -> float:
    ya, yb = rgb_to_ycbcr(imageio.to_tensor(a)), rgb_to_ycbcr(imageio.to_tensor(b))
    return float((ya[:, 1:] - yb[:, 1:]).abs().mean())


def test_quick_keeps_aspect_and_reports_progress(cat: Image.Image, brick: Image.Image) -> None:
    # Given the 451x300 cat and a brick style
    reports: list[Progress] = []
    # When stylised quickly at 96 px
    out = stylize(cat, brick, quality="quick", size=96, strength=1.0, keep_colors=False, progress=reports.append)
    # Then the result is 96 px on its long side with the photo's aspect ratio, and progress ended at 100%
    assert out.size == (96, 64) and out.mode == "RGB"
    assert reports[-1].fraction == 1.0
    assert [r.fraction for r in reports] == sorted(r.fraction for r in reports)


@pytest.mark.parametrize("method", ["luminance", "match"])
def test_keep_colors_keeps_the_photos_colours(cat: Image.Image, brick: Image.Image, method: str) -> None:
    # Given a grey-red brick style and an orange cat
    photo = imageio.resize_long_side(cat, 96)
    plain = stylize(cat, brick, quality="quick", size=96, strength=1.0, keep_colors=False)
    kept = stylize(
        cat,
        brick,
        quality="quick",
        size=96,
        strength=1.0,
        keep_colors=True,
        color_method=method,  # type: ignore[arg-type]
    )
    # Then keeping the colours brings the chroma much closer to the photo's
    assert _chroma_gap(kept, photo) < 0.6 * _chroma_gap(plain, photo)


def test_best_quality_runs_end_to_end(random_vgg_env: Path, cat: Image.Image, brick: Image.Image) -> None:
    reports: list[Progress] = []
    out = stylize(
        cat,
        brick,
        quality="best",
        size=64,
        strength=0.8,
        keep_colors=False,
        progress=reports.append,
        config=NSTConfig(evals=(4, 4), min_level_side=16),
    )
    assert out.size == (64, 43)
    assert reports[-1].fraction == 1.0
    assert any(r.preview is not None for r in reports)


def test_best_quality_can_be_cancelled(random_vgg_env: Path, cat: Image.Image, brick: Image.Image) -> None:
    calls = {"n": 0}

    def cancel_on_third_check() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    with pytest.raises(JobCancelled):
        stylize(
            cat,
            brick,
            quality="best",
            size=64,
            strength=1.0,
            keep_colors=False,
            should_cancel=cancel_on_third_check,
            config=NSTConfig(evals=(50,)),
        )
    assert calls["n"] == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quality": "fast", "size": 96, "strength": 1.0}, "quality"),
        ({"quality": "quick", "size": 8, "strength": 1.0}, "size"),
        ({"quality": "quick", "size": 96, "strength": 1.5}, "strength"),
    ],
)
def test_bad_options_are_refused(cat: Image.Image, brick: Image.Image, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stylize(cat, brick, keep_colors=False, **kwargs)  # type: ignore[arg-type]


def _period4_peak(image: Image.Image) -> float:
    """How much a 4-px period (MicroAST's block grid) stands out in the luminance spectrum, along x: the power
    at 1/4 cycle per pixel over that of the frequencies around it (about 1 for a photo, 10+ for blocks)."""
    t = imageio.to_tensor(image).mean(1)[0]
    power = torch.fft.rfft2(t - t.mean()).abs() ** 2
    i = int(torch.argmin((torch.fft.rfftfreq(t.shape[1]) - 0.25).abs()))
    peak = power[:, i - 1 : i + 2].max(1).values.mean()
    around = (power[:, i + 3 : i + 8].mean() + power[:, i - 8 : i - 3].mean()) / 2
    return float(peak / around)


def test_quick_at_256_px_shows_no_block_grid(cat: Image.Image) -> None:
    # Given a photo and a busy painting
    style = imageio.open_image(IMAGES / "starry_night.jpg")
    # When stylised quickly at 256 px, and at 512 px
    small = stylize(cat, style, quality="quick", size=256, strength=1.0, keep_colors=False)
    large = stylize(cat, style, quality="quick", size=512, strength=1.0, keep_colors=False)
    # Then the 256 px picture has no 4-px block grid, and it is the 512 px picture, scaled down
    assert small.size == (256, 170)
    assert _period4_peak(small) < 4.0
    scaled = imageio.to_tensor(large.resize(small.size, Image.Resampling.BILINEAR, reducing_gap=None))
    assert float((imageio.to_tensor(small) - scaled).abs().mean()) * 255 < 6.0


def test_same_seed_same_picture(cat: Image.Image, brick: Image.Image) -> None:
    a = stylize(cat, brick, quality="quick", size=80, strength=0.7, keep_colors=False, seed=3)
    b = stylize(cat, brick, quality="quick", size=80, strength=0.7, keep_colors=False, seed=3)
    assert torch.equal(imageio.to_tensor(a), imageio.to_tensor(b))


FIRST_REPORT_PROBE = """
import json, sys
from ml import api, imageio
from ml.errors import JobCancelled

seen = {"after_import": "torch" in sys.modules}
photo = imageio.open_image(sys.argv[1])
seen["after_decoding"] = "torch" in sys.modules

def first_report(name):
    def report(progress):
        seen[name] = [progress.fraction, progress.eta_seconds is not None, "torch" in sys.modules]
        raise JobCancelled("enough: the first report is what is looked at")
    return report

for name, call in (
    ("quick", lambda p: api.stylize(photo, photo, quality="quick", size=512, strength=1.0, keep_colors=False,
                                    progress=p)),
    ("best", lambda p: api.stylize(photo, photo, quality="best", size=512, strength=1.0, keep_colors=False,
                                   progress=p)),
    ("preset", lambda p: api.apply_preset(photo, "monet", progress=p)),
):
    try:
        call(first_report(name))
    except JobCancelled:
        pass
print(json.dumps(seen))
"""


def test_the_first_progress_report_goes_out_before_torch_is_imported() -> None:
    # Given a fresh interpreter, as a cold worker is, that imports the entry point and decodes a photo
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", FIRST_REPORT_PROBE, str(IMAGES / "chelsea.png")],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    seen = json.loads(out)
    # Then neither importing it nor decoding loaded torch
    assert seen["after_import"] is False and seen["after_decoding"] is False
    # And each kind of job sent its first report (0 %, with a time left) before torch was imported: the worker's
    # first progress edit waits neither for torch nor for any weights
    for kind in ("quick", "best", "preset"):
        assert seen[kind] == [0.0, True, False], kind
    # And `preload` imports the engine, torch with it, for a caller that wants it at once
    sys_modules_after = subprocess.run(
        [sys.executable, "-c", "import sys; from ml import api; api.preload(); print('torch' in sys.modules)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    assert sys_modules_after == "True"
