"""The preset registry: ids, localized names, architectures, weights entries and licences. No torch here,
so that the webhook can show the gallery without loading any model.

Adding a preset is one `Preset` entry in `PRESETS` plus one entry (its weights file) in `ml/manifest.json`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ml.errors import StylebotMLError
from ml.manifest import manifest, missing, not_in_image

NONCOMMERCIAL_ENV = "STYLEBOT_PRESETS_NONCOMMERCIAL"
VGG19_WEIGHTS = "vgg19"
# The weights each quality of own style needs beyond MicroAST's, which ship inside the package.
QUALITY_WEIGHTS: Mapping[str, tuple[str, ...]] = {"quick": (), "best": (VGG19_WEIGHTS,)}


class UnknownPreset(StylebotMLError, ValueError):
    """No preset with that id (or it is switched off on this deployment): a bad argument."""


@dataclass(frozen=True)
class Preset:
    """One preset style. `id` is stable: it appears in callback data and stored user choices."""

    id: str
    names: Mapping[str, str]  # language code -> display name; "en" is required
    architecture: str  # a key of ARCHITECTURES
    weights: str  # the manifest entry of its weights file
    licence: str
    commercial_use: bool

    def name(self, language: str) -> str:
        """The display name in `language` ("ru", "en", ...), English where there is none."""
        return self.names.get(language) or self.names["en"]


_CYCLEGAN_LICENCE = "BSD (pytorch-CycleGAN-and-pix2pix); pretrained by its authors on WikiArt paintings"

PRESETS: tuple[Preset, ...] = (
    Preset(
        id="monet",
        names={"en": "Monet", "ru": "Моне"},
        architecture="cyclegan_resnet9",
        weights="cyclegan_style_monet",
        licence=_CYCLEGAN_LICENCE,
        commercial_use=True,
    ),
    Preset(
        id="vangogh",
        names={"en": "Van Gogh", "ru": "Ван Гог"},
        architecture="cyclegan_resnet9",
        weights="cyclegan_style_vangogh",
        licence=_CYCLEGAN_LICENCE,
        commercial_use=True,
    ),
    Preset(
        id="cezanne",
        names={"en": "Cézanne", "ru": "Сезанн"},
        architecture="cyclegan_resnet9",
        weights="cyclegan_style_cezanne",
        licence=_CYCLEGAN_LICENCE,
        commercial_use=True,
    ),
    Preset(
        id="ukiyoe",
        names={"en": "Ukiyo-e", "ru": "Укиё-э"},
        architecture="cyclegan_resnet9",
        weights="cyclegan_style_ukiyoe",
        licence=_CYCLEGAN_LICENCE,
        commercial_use=True,
    ),
    Preset(
        id="anime_paprika",
        names={"en": "Anime", "ru": "Аниме"},
        architecture="animeganv2",
        weights="animeganv2_paprika",
        licence="AnimeGANv2 (TachibanaYoshino): non-commercial use only; converted by animegan2-pytorch",
        commercial_use=False,
    ),
    Preset(
        id="cartoon_face",
        names={"en": "Cartoon portrait", "ru": "Мультяшный портрет"},
        architecture="animeganv2",
        weights="animeganv2_face_paint_512_v2",
        licence="MIT (animegan2-pytorch, Face Portrait v2 trained by its author)",
        commercial_use=True,
    ),
)


def noncommercial_allowed() -> bool:
    """False where the operator set ``STYLEBOT_PRESETS_NONCOMMERCIAL`` to 0/false/no/off."""
    value = os.environ.get(NONCOMMERCIAL_ENV, "").strip().lower()
    return value not in {"0", "false", "no", "off"}


def allowed(*, include_noncommercial: bool | None = None) -> list[Preset]:
    """The presets this deployment's licence settings allow (``STYLEBOT_PRESETS_NONCOMMERCIAL``), in gallery order."""
    allow = noncommercial_allowed() if include_noncommercial is None else include_noncommercial
    return [p for p in PRESETS if allow or p.commercial_use]


def available(*, include_noncommercial: bool | None = None) -> list[Preset]:
    """The presets offered on this deployment, in gallery order: allowed by its licence settings, and held by
    the image (an image built while the licence settings left a preset out does not hold it)."""
    allowed_here = allowed(include_noncommercial=include_noncommercial)
    missing = not_in_image(p.weights for p in allowed_here)
    return [p for p in allowed_here if p.weights not in missing]


def get_preset(preset_id: str, *, include_noncommercial: bool | None = None) -> Preset:
    for preset in available(include_noncommercial=include_noncommercial):
        if preset.id == preset_id:
            return preset
    known = ", ".join(p.id for p in available(include_noncommercial=include_noncommercial))
    raise UnknownPreset(f"no preset {preset_id!r} (available: {known})")


def weights_names(*, include_noncommercial: bool | None = None) -> list[str]:
    """Manifest entries the available presets need."""
    return [p.weights for p in available(include_noncommercial=include_noncommercial)]


def image_weights_names() -> tuple[list[str], list[str]]:
    """What the image build fetches: (every entry but the presets': VGG19 and the bundled models, the presets'
    entries the licence settings allow), from the manifest. The build fails without any of them; presets the
    licence settings switch off (``STYLEBOT_PRESETS_NONCOMMERCIAL``) are not fetched at all.
    """
    presets = {p.weights for p in PRESETS}
    return [name for name in manifest() if name not in presets], [p.weights for p in allowed()]


def offered_weights_names() -> list[str]:
    """The entries everything this deployment offers needs: each quality's and the allowed presets'. What
    ``python -m ml weights fetch`` fetches by default, and local mode's first run where they are missing."""
    names = [name for names in QUALITY_WEIGHTS.values() for name in names]
    return list(dict.fromkeys([*names, *(p.weights for p in allowed())]))


def lacking() -> tuple[list[str], list[str]]:
    """What this deployment would offer but cannot run for want of weights that can be downloaded: (their
    entries, what they are in words: "best quality", preset names in English)."""
    offered = offered_weights_names()
    entries = manifest()
    absent = missing(offered)
    names = [name for name in offered if name in absent and entries[name].bundled is None]
    words = [f"{quality} quality" for quality, needs in QUALITY_WEIGHTS.items() if set(needs) & set(names)]
    words += [p.name("en") for p in PRESETS if p.weights in names]
    return names, words


def preview_file(preset_id: str) -> Path:
    """Where the preview JPEG of a preset is, once `python -m ml presets previews` has rendered it."""
    from ml.paths import previews_dir

    return previews_dir() / f"{preset_id}.jpg"


def runnable(*, include_noncommercial: bool | None = None) -> list[Preset]:
    """The presets that can run here: offered on this deployment, with weights present and verified."""
    offered = available(include_noncommercial=include_noncommercial)
    absent = missing(p.weights for p in offered)
    return [p for p in offered if p.weights not in absent]


def runnable_qualities() -> list[str]:
    """The qualities of own style that can run here (their weights present and verified), quick first."""
    absent = missing(name for names in QUALITY_WEIGHTS.values() for name in names)
    return [quality for quality, names in QUALITY_WEIGHTS.items() if not absent.intersection(names)]
