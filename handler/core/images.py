"""A quick look at a picture a user sent, before it is accepted: format, size, shape, integrity. Pillow only (the
bounds of a usable picture are the ml package's own, so that what is accepted here is what the engine takes)."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from ml.image_limits import MAX_ASPECT, MIN_SIDE

# Bigger than any phone camera (48 MP sensors give 8000x6000); a decompression bomb is far beyond.
MAX_PIXELS = 50_000_000
# The Bot API lets bots download files up to 20 MB.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
UNSUPPORTED_MIME = ("image/heic", "image/heif", "image/avif", "image/svg+xml", "image/x-icon", "image/vnd")


@dataclass(frozen=True)
class Problem:
    """Why a picture cannot be used: `reason` names the reply (`bad_<reason>`)."""

    reason: str
    values: dict[str, object] = field(default_factory=dict)


def check_document(mime_type: str | None, file_size: int | None) -> Problem | None:
    """What can be told from a document's metadata alone."""
    if not mime_type or not mime_type.startswith("image/"):
        return Problem("not_image")
    if mime_type.startswith(UNSUPPORTED_MIME):
        return Problem("unsupported_format")
    if file_size is not None and file_size > MAX_DOWNLOAD_BYTES:
        return Problem("too_big")
    return None


def check_shape(width: int, height: int) -> Problem | None:
    """What a picture's width and height alone tell: too small, or too narrow, for the engine to use."""
    if min(width, height) < MIN_SIDE:
        return Problem("too_small", {"width": width, "height": height, "min_side": MIN_SIDE})
    if max(width, height) / max(1, min(width, height)) > MAX_ASPECT:
        return Problem("too_narrow", {"width": width, "height": height, "ratio": f"{MAX_ASPECT:g}"})
    return None


def check_image(data: bytes) -> Problem | None:
    """Decode the picture cheaply (JPEG at 1/8 scale) to catch corrupt, truncated and oversized images."""
    too_many = Problem("too_many_pixels", {"limit": MAX_PIXELS // 1_000_000})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return Problem(
                        "too_many_pixels", {"limit": MAX_PIXELS // 1_000_000, "megapixels": width * height // 1_000_000}
                    )
                shape = check_shape(width, height)
                if shape is not None:
                    return shape
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own guard fired while reading the header; its message holds the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(error))
        megapixels = int(found.group(1)) // 1_000_000 if found else f"{MAX_PIXELS // 1_000_000}+"
        return Problem("too_many_pixels", {**too_many.values, "megapixels": megapixels})
    except UnidentifiedImageError:
        return Problem("unsupported_format")
    except (OSError, SyntaxError, ValueError, EOFError):
        return Problem("corrupt")
    return None


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an encoded picture, from its header alone (None: not a picture Pillow reads)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None
    return width, height
