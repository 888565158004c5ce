"""The famous paintings: the pictures shipped with their record, the catalogue, and the gallery previews made by
MicroAST's real bundled weights (the one test here that runs real weights: they ship in the package)."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from handler.adapters.ml_engine import MLEngine
from handler.core.job import Job, Kind, Language, Quality, Strength
from ml import api, paintings
from ml.painting_previews import render, render_previews
from ml.presets import PREVIEW_SIDE
from tests.ml_helpers import IMAGES

ROOT = Path(__file__).resolve().parents[3]
# What JPEG keeps of the same pixels: the mean and the 99.9th percentile of the absolute difference (0-255) between
# a committed preview and the command's output. Another painting's preview is over 20 away on average.
PREVIEW_MEAN_TOLERANCE = 1.5
PREVIEW_PEAK_TOLERANCE = 16


def _pixels(data: bytes | Path) -> np.ndarray:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return np.asarray(Image.open(source).convert("RGB"), dtype=np.int16)


def _distance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    assert a.shape == b.shape
    diff = np.abs(a - b)
    return float(diff.mean()), float(np.percentile(diff, 99.9))


def test_six_paintings_ship_with_their_record_in_both_languages() -> None:
    # Given the catalogue and the folder of pictures
    sums = dict(
        reversed(line.split("  ")) for line in (paintings.PAINTINGS_DIR / "SHA256SUMS").read_text().splitlines()
    )
    record = (paintings.PAINTINGS_DIR / "SOURCES.md").read_text()
    readme = (ROOT / "README.md").read_text()
    # Then there are six, every one present, pinned by its SHA-256, of a sensible size for a style picture
    assert [p.id for p in paintings.available()] == [p.id for p in paintings.PAINTINGS]
    assert len(paintings.PAINTINGS) == 6 and len({p.id for p in paintings.PAINTINGS}) == 6
    for p in paintings.PAINTINGS:
        assert re.fullmatch(r"[a-z0-9_]{1,40}", p.id), p.id
        assert hashlib.sha256(p.file.read_bytes()).hexdigest() == sums[p.file.name], p.id
        image = Image.open(p.file)
        assert image.format == "JPEG" and image.mode == "RGB" and 256 <= max(image.size) <= 1024, p.id
        # And its title, artist and year in English and Russian, the title different in each
        for language in ("en", "ru"):
            assert p.title(language) and p.short_title(language) and p.artist(language) and p.year(language)
        assert p.title("ru") != p.title("en") and p.artist("ru") != p.artist("en")
        assert re.search(r"[а-яё]", p.title("ru").lower()) and not re.search(r"[а-яё]", p.title("en").lower())
        # And the record (in the folder and in the README) names the file, its work, artist and source
        for text in (record, readme):
            row = next((line for line in text.splitlines() if line.startswith(f"| {p.file.name} |")), "")
            assert p.title("en") in row and p.artist("en").split()[-1] in row and p.source in row, p.id


def test_an_unknown_painting_is_a_clear_error() -> None:
    with pytest.raises(paintings.UnknownPainting, match="starry_night"):
        paintings.get_painting("mona_lisa")
    assert paintings.picture_bytes("udnie") == paintings.get_painting("udnie").file.read_bytes()


def test_each_committed_preview_is_what_the_command_makes_from_the_committed_inputs() -> None:
    # Given the committed previews
    for p in paintings.PAINTINGS:
        committed = _pixels(p.preview)
        assert max(committed.shape[:2]) == PREVIEW_SIDE
        # When the command's renderer makes that preview again (MicroAST's real bundled weights, the sample photo)
        made = _pixels(render(p.id))
        # Then they are the same picture, within what JPEG keeps
        mean, peak = _distance(committed, made)
        assert mean <= PREVIEW_MEAN_TOLERANCE and peak <= PREVIEW_PEAK_TOLERANCE, (p.id, mean, peak)
    # And the tolerance tells two paintings apart
    mean, _ = _distance(_pixels(paintings.get_painting("starry_night").preview), made)
    assert mean > 10 * PREVIEW_MEAN_TOLERANCE


def test_the_command_writes_the_previews_where_it_is_told(tmp_path: Path) -> None:
    written = render_previews(["udnie"], out_dir=tmp_path)
    assert written == [tmp_path / "udnie.jpg"]
    assert _distance(_pixels(written[0]), _pixels(paintings.get_painting("udnie").preview))[0] <= PREVIEW_MEAN_TOLERANCE
    assert not list(tmp_path.glob("*.part"))


def _painting_job(quality: Quality, **fields: object) -> Job:
    values: dict[str, object] = dict(
        job_id="painting00000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="P", painting="the_scream",
        quality=quality, size=256, strength=Strength.HIGH, keep_colors=False, as_file=False, language=Language.RU,
    )  # fmt: skip
    return Job.model_validate({**values, **fields})


def test_a_quick_painting_job_runs_with_every_option() -> None:
    # Given a quick job whose style is a painting (no style picture downloaded), as a file, colours kept
    engine = MLEngine()
    job = _painting_job(Quality.QUICK, strength=Strength.MID, keep_colors=True, as_file=True)
    photo = (IMAGES / "chelsea.png").read_bytes()  # 451 x 300
    reports: list[float] = []
    # When the engine runs it (MicroAST's bundled weights)
    data, filename = engine.run(
        job, photo, None, lambda fraction, eta, preview=None: reports.append(fraction), lambda: False
    )
    # Then the result is the photo restyled at the job's size, as a PNG file, and its progress reached the end
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (256, 170) and filename.endswith(".png")
    assert reports[-1] == 1.0
    # And the painting is named in the user's language
    assert engine.painting_title("the_scream", "ru") == "Крик"


def test_a_best_painting_job_gives_the_model_the_painting_and_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a best-quality job with a painting (the whole run on test weights: tests/integration/test_cli.py)
    asked: dict[str, object] = {}

    def stylize(content: Image.Image, style: Image.Image, **options: object) -> Image.Image:
        asked.update(options, style=style)
        return content

    monkeypatch.setattr(api, "stylize", stylize)
    job = _painting_job(Quality.BEST, size=512, strength=Strength.LOW, keep_colors=True)
    # When the engine runs it
    MLEngine().run(job, (IMAGES / "chelsea.png").read_bytes(), None, lambda f, e, p=None: None, lambda: False)
    # Then the model gets the painting as the style picture, with the job's options
    painting = Image.open(paintings.get_painting("the_scream").file).convert("RGB")
    assert np.array_equal(np.asarray(asked.pop("style")), np.asarray(painting))
    assert {k: asked[k] for k in ("quality", "size", "strength", "keep_colors")} == {
        "quality": "best", "size": 512, "strength": Strength.LOW.weight, "keep_colors": True,
    }  # fmt: skip
