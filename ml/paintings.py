"""The famous paintings a user can take as their style picture: ids, titles, artists and years in each language,
and where each picture and its gallery preview are. No torch here, so that the webhook can show the gallery.

The pictures ship inside the package (`ml/assets/paintings/`, with `SOURCES.md`: where each came from and why it
is public domain), so they travel with the image and the local install and are never downloaded. Adding one is
its file there, its line in `SOURCES.md` and `SHA256SUMS`, one `Painting` entry below, and its preview
(`python -m ml paintings previews`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ml.errors import StylebotMLError
from ml.manifest import PACKAGE_DIR

PAINTINGS_DIR = PACKAGE_DIR / "assets" / "paintings"
PREVIEWS_DIR = PAINTINGS_DIR / "previews"
PREVIEWS_COMMAND = "python -m ml paintings previews"
PUBLIC_DOMAIN = "public domain (the artist died over 70 years ago; published before 1929)"


class UnknownPainting(StylebotMLError, ValueError):
    """No painting with that id: a bad argument."""


@dataclass(frozen=True)
class Painting:
    """One painting. `id` is stable: it appears in callback data, stored choices and jobs."""

    id: str
    titles: Mapping[str, str]  # language code -> title; "en" is required
    short_titles: Mapping[str, str]  # for a button, where the full title would be cut off
    artists: Mapping[str, str]
    years: Mapping[str, str]  # a text: "c. 1810"
    source: str  # where the file came from

    def title(self, language: str) -> str:
        return self.titles.get(language) or self.titles["en"]

    def short_title(self, language: str) -> str:
        return self.short_titles.get(language) or self.short_titles["en"]

    def artist(self, language: str) -> str:
        return self.artists.get(language) or self.artists["en"]

    def year(self, language: str) -> str:
        return self.years.get(language) or self.years["en"]

    @property
    def file(self) -> Path:
        return PAINTINGS_DIR / f"{self.id}.jpg"

    @property
    def preview(self) -> Path:
        return PREVIEWS_DIR / f"{self.id}.jpg"


_NEURAL_STYLE = "github.com/jcjohnson/neural-style, examples/inputs/"
_FAST_STYLE = "github.com/lengstrom/fast-style-transfer, examples/style/"

PAINTINGS: tuple[Painting, ...] = (
    Painting(
        id="starry_night",
        titles={"en": "The Starry Night", "ru": "Звёздная ночь"},
        short_titles={"en": "The Starry Night", "ru": "Звёздная ночь"},
        artists={"en": "Vincent van Gogh", "ru": "Винсент Ван Гог"},
        years={"en": "1889", "ru": "1889"},
        source=_NEURAL_STYLE + "starry_night.jpg",
    ),
    Painting(
        id="the_scream",
        titles={"en": "The Scream", "ru": "Крик"},
        short_titles={"en": "The Scream", "ru": "Крик"},
        artists={"en": "Edvard Munch", "ru": "Эдвард Мунк"},
        years={"en": "1893", "ru": "1893"},
        source=_NEURAL_STYLE + "the_scream.jpg",
    ),
    Painting(
        id="woman_with_a_hat",
        titles={"en": "Woman with a Hat", "ru": "Женщина в шляпе"},
        short_titles={"en": "Woman with a Hat", "ru": "Женщина в шляпе"},
        artists={"en": "Henri Matisse", "ru": "Анри Матисс"},
        years={"en": "1905", "ru": "1905"},
        source=_NEURAL_STYLE + "woman-with-hat-matisse.jpg",
    ),
    Painting(
        id="the_shipwreck_of_the_minotaur",
        titles={"en": "The Shipwreck of the Minotaur", "ru": "Крушение „Минотавра“"},
        short_titles={"en": "The Shipwreck", "ru": "Крушение"},
        artists={"en": "J. M. W. Turner", "ru": "Уильям Тёрнер"},
        years={"en": "c. 1810", "ru": "около 1810"},
        source=_FAST_STYLE + "the_shipwreck_of_the_minotaur.jpg",
    ),
    Painting(
        id="the_great_wave",
        titles={"en": "The Great Wave off Kanagawa", "ru": "Большая волна в Канагаве"},
        short_titles={"en": "The Great Wave", "ru": "Большая волна"},
        artists={"en": "Katsushika Hokusai", "ru": "Кацусика Хокусай"},
        years={"en": "c. 1831", "ru": "около 1831"},
        source=_FAST_STYLE + "wave.jpg",
    ),
    Painting(
        id="udnie",
        titles={"en": "Udnie", "ru": "Удни"},
        short_titles={"en": "Udnie", "ru": "Удни"},
        artists={"en": "Francis Picabia", "ru": "Франсис Пикабиа"},
        years={"en": "1913", "ru": "1913"},
        source=_FAST_STYLE + "udnie.jpg",
    ),
)


def available() -> list[Painting]:
    """The paintings whose picture is here (all of them, in a whole install), in gallery order."""
    return [p for p in PAINTINGS if p.file.is_file()]


def get_painting(painting_id: str) -> Painting:
    for painting in available():
        if painting.id == painting_id:
            return painting
    known = ", ".join(p.id for p in available())
    raise UnknownPainting(f"no painting {painting_id!r} (available: {known})")


def picture_bytes(painting_id: str) -> bytes:
    """The painting's picture (a JPEG), as a style picture a user sent would arrive."""
    return get_painting(painting_id).file.read_bytes()
