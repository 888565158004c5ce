"""The preset registry, its previews, and applying presets through the public API (seeded random weights)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml import api, presets, registry, weights
from ml.errors import JobCancelled, WeightsError
from ml.imageio import open_image, resize_long_side
from ml.progress import Progress
from tests.ml_helpers import write_preset_weights

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def preset_weights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A weights folder with a random checkpoint per preset, pinned by a manifest override, as deployed."""
    folder = tmp_path_factory.mktemp("weights")
    entries = write_preset_weights(folder)
    override = folder / "manifest.json"
    override.write_text(json.dumps(entries))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(weights.WEIGHTS_DIR_ENV, str(folder))
        mp.setenv(weights.MANIFEST_ENV, str(override))
        mp.delenv(registry.NONCOMMERCIAL_ENV, raising=False)
        yield folder


def _pixels(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image, dtype=np.float32))


@pytest.fixture(scope="module")
def cat() -> Image.Image:
    # Odd sides on purpose: 97 x 65
    return resize_long_side(open_image(FIXTURES / "images" / "chelsea.png"), 97)


def test_every_preset_has_an_id_names_a_known_architecture_and_a_manifest_entry() -> None:
    # Given the registry and the packaged manifest
    entries = weights.manifest()

    # When each preset is inspected
    ids = [p.id for p in registry.PRESETS]

    # Then ids are unique, names exist in both languages, and everything it needs is declared
    assert len(ids) == len(set(ids)) == 6
    for p in registry.PRESETS:
        assert p.name("en") and p.name("ru") and p.name("ru") != p.name("en")
        assert p.architecture in presets.ARCHITECTURES
        assert p.weights in entries
        assert p.licence
    assert presets.PREVIEW_SOURCE.is_file()


def test_unpinned_weights_are_refused_until_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a preset's weights file present but its manifest entry without a hash (as packaged)
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(weights.MANIFEST_ENV, raising=False)
    item = weights.entry("cyclegan_style_monet")
    (tmp_path / item.filename).write_bytes(b"anything")

    # When it is resolved for loading, or fetched through the API without pin=True
    with pytest.raises(WeightsError) as loading:
        weights.resolve("cyclegan_style_monet")
    with pytest.raises(WeightsError) as fetching:
        weights.fetch(["cyclegan_style_monet"], dest=tmp_path)

    # Then both refuse and name the command that pins it on its first download
    assert item.sha256 is None and not item.pinned
    for refusal in (str(loading.value), str(fetching.value)):
        assert f"{weights.FETCH_COMMAND} cyclegan_style_monet" in refusal and "first download" in refusal


def test_operator_can_leave_out_non_commercial_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the operator's switch off
    monkeypatch.setenv(registry.NONCOMMERCIAL_ENV, "0")

    # When the gallery and the weights to fetch are listed, and Paprika is asked for
    ids = [item.id for item in presets.gallery("en")]
    needed = registry.weights_names()

    # Then Paprika (non-commercial) is nowhere, the others stay
    assert "anime_paprika" not in ids and "animeganv2_paprika" not in needed
    assert {"monet", "vangogh", "cezanne", "ukiyoe", "cartoon_face"} == set(ids)
    with pytest.raises(registry.UnknownPreset):
        registry.get_preset("anime_paprika")
    assert not registry.get_preset("anime_paprika", include_noncommercial=True).commercial_use


def test_readme_tells_that_paprika_is_non_commercial_and_how_to_leave_it_out() -> None:
    # Given the package README
    text = (Path(presets.__file__).parent / "README.md").read_text(encoding="utf-8").lower()

    # Then it says Paprika is non-commercial and names the operator's switch
    assert "paprika" in text and "non-commercial" in text
    assert registry.NONCOMMERCIAL_ENV.lower() in text


def test_every_offered_preset_has_a_rendered_preview_in_the_gallery(preset_weights: Path) -> None:
    # Given weights for every preset
    # When the previews are rendered, as the image build does after fetching the weights
    written = presets.render_previews(side=96)

    # Then every gallery entry, in both languages, points at a real JPEG preview of that preset
    gallery_ru = presets.gallery("ru")
    assert [item.id for item in gallery_ru] == [p.id for p in registry.PRESETS]
    assert sorted(written) == sorted(item.preview for item in gallery_ru)
    for item in gallery_ru:
        assert item.name == registry.get_preset(item.id).name("ru")
        image = Image.open(io.BytesIO(item.preview_bytes()))
        assert image.format == "JPEG" and max(image.size) == 96
        assert presets.preview_bytes(item.id) == item.preview.read_bytes()
    monet = presets.preview_bytes("monet")
    assert monet != presets.preview_bytes("cartoon_face")


def test_missing_preview_names_the_command_that_renders_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a weights folder where previews were never rendered
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(tmp_path))

    # When a preview is asked for
    with pytest.raises(WeightsError) as err:
        presets.preview_bytes("monet")

    # Then the error says how to make it
    assert presets.PREVIEWS_COMMAND in str(err.value)


@pytest.mark.parametrize("preset_id", ["vangogh", "anime_paprika"])
def test_apply_preset_keeps_the_photo_size_and_changes_it(
    preset_weights: Path, cat: Image.Image, preset_id: str
) -> None:
    # Given an odd-sized photo
    # When a preset is applied through the worker's API, with progress reports
    reports: list[Progress] = []
    out = api.apply_preset(cat, preset_id, progress=reports.append)

    # Then the result has the photo's exact size, differs from it, and progress ends at 100 %
    assert out.size == cat.size == (97, 65)
    diff = _pixels(out) - _pixels(cat)
    assert diff.abs().mean() > 5
    assert reports and reports[-1].fraction == 1.0


def test_strength_blends_between_the_photo_and_the_full_style(preset_weights: Path, cat: Image.Image) -> None:
    # Given the full-strength result of a preset
    full = _pixels(api.apply_preset(cat, "monet"))
    photo = _pixels(cat)

    # When strength 0 and 0.5 are asked for
    none = _pixels(api.apply_preset(cat, "monet", strength=0.0))
    half = _pixels(api.apply_preset(cat, "monet", strength=0.5))

    # Then 0 gives the photo back and 0.5 lies halfway between photo and full style
    assert (none - photo).abs().max() <= 1
    assert (half - (photo + full) / 2).abs().max() <= 1
    with pytest.raises(ValueError):
        api.apply_preset(cat, "monet", strength=1.5)


def test_models_are_loaded_once_and_reused(preset_weights: Path) -> None:
    # Given a preset loaded once
    first = presets.load_generator("ukiyoe")

    # When it is asked for again (the next job in the same container)
    second = presets.load_generator("ukiyoe")

    # Then the same model object serves it, in eval mode
    assert first is second
    assert not first.model.training


def test_large_photo_is_tiled_and_can_be_cancelled_between_tiles(preset_weights: Path) -> None:
    # Given a photo above the untiled limit of a small tiling configuration
    photo = Image.new("RGB", (300, 200), (120, 140, 90))
    small = presets.Tiling(max_untiled_pixels=10_000, tile=128, overlap=32, stats_pixels=128 * 96)
    calls: list[float] = []

    def cancel_after_two() -> bool:
        return len(calls) >= 2

    # When the preset runs with a cancel request arriving after two tiles
    with pytest.raises(JobCancelled):
        presets.apply(photo, "cartoon_face", tiling=small, on_progress=calls.append, should_cancel=cancel_after_two)
    # and once more to completion
    done = presets.apply(photo, "cartoon_face", tiling=small)

    # Then the first run stopped early (of 6 tiles) and the second kept the size
    assert len(calls) == 2 and calls[-1] < 1.0
    assert done.size == (300, 200)
