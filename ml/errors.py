"""Errors raised by the ML package.

Each carries a message in English that tells the person at the command line what is wrong (``BadImage``) or
what to do next (``WeightsError``). A ``BadImage`` also names its kind and the numbers behind it, so that a caller
speaking another language (the bot) words it itself.
"""

from __future__ import annotations

from enum import StrEnum


class StylebotMLError(Exception):
    """Base class of every error this package raises on purpose."""


class BadImageKind(StrEnum):
    """What is wrong with a picture."""

    UNREADABLE = "unreadable"  # the file could not be read at all
    EMPTY = "empty"
    NOT_AN_IMAGE = "not_an_image"  # no format Pillow knows
    DAMAGED = "damaged"  # corrupt or truncated
    TOO_MANY_PIXELS = "too_many_pixels"  # values: limit (megapixels), megapixels where known
    TOO_SMALL = "too_small"  # values: width, height, min_side
    TOO_NARROW = "too_narrow"  # values: width, height, ratio (the most elongated accepted)


class BadImage(StylebotMLError):
    """The bytes are not an image we can work with: ``reason`` is a short English sentence, ``kind`` and
    ``values`` say the same for a caller that words it itself."""

    def __init__(self, reason: str, kind: BadImageKind, **values: int | str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.values = values


class WeightsError(StylebotMLError):
    """A weights file is missing, has the wrong hash, or is not in the manifest."""


class JobCancelled(StylebotMLError):
    """The caller's cancel check asked the job to stop."""
