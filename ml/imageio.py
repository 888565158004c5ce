"""Image input and output shared by every model.

Inputs come from strangers: ``open_image`` accepts bytes or a path, refuses what is not a usable picture
with a :class:`~ml.errors.BadImage` whose reason can be shown to the user, applies the EXIF orientation,
guards against decompression bombs before decoding pixels, takes the first frame of an animation and always
returns RGB.
Outputs carry no metadata at all (no EXIF, no GPS, no ICC, no text chunks) and fit Telegram's limits.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import BadImage, BadImageKind
from ml.image_limits import MAX_ASPECT, MIN_SIDE

if TYPE_CHECKING:  # torch is imported where a tensor is made: decoding a picture needs only PIL
    import torch

#: Pixel count above which an image is refused before decoding (about 50 megapixels).
MAX_PIXELS = 50_000_000
#: Telegram's limits for ``sendPhoto``: 10 MB, width + height at most 10000 px.
TELEGRAM_PHOTO_MAX_BYTES = 10_000_000
TELEGRAM_PHOTO_MAX_DIM_SUM = 10_000
#: Telegram's limit for a document a bot uploads.
TELEGRAM_DOCUMENT_MAX_BYTES = 50_000_000

_BACKGROUND = (255, 255, 255)


def _as_buffer(data: bytes | bytearray | memoryview | Path | str) -> io.BytesIO:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        try:
            raw = Path(data).read_bytes()
        except OSError as exc:
            raise BadImage(f"The file could not be read ({exc.strerror or exc}).", BadImageKind.UNREADABLE) from exc
    if not raw:
        raise BadImage("The file is empty.", BadImageKind.EMPTY)
    return io.BytesIO(raw)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode to RGB; transparency is composited onto white, 16-bit and float images are rescaled."""
    if img.mode == "RGB":
        return img
    if img.mode in {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}:
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.round().astype(np.uint8)).convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in {"RGBA", "LA", "RGBa", "La", "PA"}:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _too_many_pixels(max_pixels: int) -> BadImage:
    limit = max_pixels // 1_000_000
    return BadImage("The image has too many pixels.", BadImageKind.TOO_MANY_PIXELS, limit=limit)


def open_image(
    data: bytes | bytearray | memoryview | Path | str,
    *,
    max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
    max_aspect: float = MAX_ASPECT,
) -> Image.Image:
    """Decode an untrusted image into a fully loaded RGB ``PIL.Image`` with the EXIF orientation applied.

    Raises :class:`BadImage` for: unreadable or empty data, a format PIL does not know, a truncated or
    corrupt file, more than ``max_pixels`` pixels (checked from the header, before the pixels are decoded), a
    side shorter than ``min_side`` or an aspect ratio beyond ``max_aspect``. Animated images give their first
    frame.
    """
    buf = _as_buffer(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(buf)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except UnidentifiedImageError as exc:
        raise BadImage(
            "This file is not an image I can read (JPEG, PNG, WebP, GIF, BMP or TIFF).", BadImageKind.NOT_AN_IMAGE
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImage("The image file is damaged and cannot be read.", BadImageKind.DAMAGED) from exc

    width, height = img.size
    if width * height > max_pixels:
        limit = max_pixels // 1_000_000
        raise BadImage(
            f"The image is too large ({width}x{height} pixels); the limit is {limit} megapixels.",
            BadImageKind.TOO_MANY_PIXELS,
            limit=limit,
            megapixels=width * height // 1_000_000,
        )
    if min(width, height) < min_side:
        raise BadImage(
            f"The image is too small ({width}x{height}); it needs at least {min_side} px per side.",
            BadImageKind.TOO_SMALL,
            width=width,
            height=height,
            min_side=min_side,
        )
    if max(width, height) / min(width, height) > max_aspect:
        raise BadImage(
            f"The image is too narrow ({width}x{height}); the longest side may be {max_aspect:g}x the shortest.",
            BadImageKind.TOO_NARROW,
            width=width,
            height=height,
            ratio=f"{max_aspect:g}",
        )

    try:
        if getattr(img, "is_animated", False):
            img.seek(0)
        img.load()
        oriented: Image.Image = ImageOps.exif_transpose(img) or img
        rgb = _to_rgb(oriented)
        rgb.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadImage("The image file is truncated or damaged and cannot be read.", BadImageKind.DAMAGED) from exc
    # A fresh image: no ``info`` (EXIF, ICC, comments) survives into our pipeline.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def fit_long_side(width: int, height: int, size: int, *, multiple_of: int = 1) -> tuple[int, int]:
    """(width, height) with the longer side ``size``, aspect kept, each side a multiple of ``multiple_of``."""
    if size < 1:
        raise ValueError(f"size must be positive, not {size}")
    scale = size / max(width, height)
    new_w = max(multiple_of, round(width * scale / multiple_of) * multiple_of)
    new_h = max(multiple_of, round(height * scale / multiple_of) * multiple_of)
    return new_w, new_h


def resize_long_side(img: Image.Image, size: int, *, multiple_of: int = 1) -> Image.Image:
    """Resize so that the longer side is ``size`` px (up or down), keeping the aspect ratio."""
    new_size = fit_long_side(img.width, img.height, size, multiple_of=multiple_of)
    if new_size == img.size:
        return img.copy()
    shrinking = new_size[0] * new_size[1] < img.width * img.height
    resample = Image.Resampling.LANCZOS if shrinking else Image.Resampling.BICUBIC
    return img.resize(new_size, resample=resample, reducing_gap=3.0 if shrinking else None)


def _fit_telegram_photo(img: Image.Image) -> Image.Image:
    if img.width + img.height <= TELEGRAM_PHOTO_MAX_DIM_SUM:
        return img
    scale = TELEGRAM_PHOTO_MAX_DIM_SUM / (img.width + img.height)
    return resize_long_side(img, int(max(img.size) * scale))


def encode_jpeg(img: Image.Image, *, max_bytes: int = TELEGRAM_PHOTO_MAX_BYTES, quality: int = 92) -> bytes:
    """JPEG bytes without metadata, within ``max_bytes`` and Telegram's photo dimensions.

    Lowers the quality, then the size, until the file fits.
    """
    img = _fit_telegram_photo(_to_rgb(img))
    while True:
        for q in range(quality, 49, -8):
            buf = io.BytesIO()
            options = {"quality": q, "subsampling": 0 if q >= 90 else 2}
            try:
                img.save(buf, format="JPEG", optimize=True, progressive=True, **options)
            except OSError:
                # Pillow gives the optimising encoder a buffer of one byte per pixel; very detailed pictures
                # at high quality need more ("Suspension not allowed here"). The plain encoder streams.
                buf = io.BytesIO()
                img.save(buf, format="JPEG", **options)
            if buf.tell() <= max_bytes:
                return buf.getvalue()
        if max(img.size) <= 64:
            raise ValueError(f"cannot encode a JPEG within {max_bytes} bytes")
        img = resize_long_side(img, int(max(img.size) * 0.8))


#: A progress preview (the picture as it forms) is at most this large on its long side, and a JPEG of this
#: quality: a few tens of kB, quick to upload while the job goes on.
PREVIEW_MAX_SIDE = 512
PREVIEW_QUALITY = 80


def encode_preview(img: Image.Image) -> bytes:
    """A small JPEG of a progress preview: at most :data:`PREVIEW_MAX_SIDE` px, quality :data:`PREVIEW_QUALITY`."""
    if max(img.size) > PREVIEW_MAX_SIDE:
        img = resize_long_side(img, PREVIEW_MAX_SIDE)
    return encode_jpeg(img, quality=PREVIEW_QUALITY)


def encode_png(img: Image.Image, *, max_bytes: int = TELEGRAM_DOCUMENT_MAX_BYTES) -> bytes:
    """PNG bytes without metadata (no text chunks, no ICC, no EXIF), shrunk if needed to fit ``max_bytes``."""
    img = _to_rgb(img)
    while True:
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=False, compress_level=6)
        if buf.tell() <= max_bytes:
            return buf.getvalue()
        if max(img.size) <= 64:
            raise ValueError(f"cannot encode a PNG within {max_bytes} bytes")
        img = resize_long_side(img, int(max(img.size) * 0.8))


def to_tensor(img: Image.Image, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """An RGB image as a float32 tensor of shape (1, 3, H, W) with values in [0, 1]."""
    import torch

    arr = np.asarray(_to_rgb(img), dtype=np.uint8)
    tensor = torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0)
    return tensor.to(device=device, dtype=torch.float32).div_(255.0)


def to_image(tensor: torch.Tensor) -> Image.Image:
    """A (1, 3, H, W) or (3, H, W) tensor in [0, 1] (clamped) as an RGB image."""
    import torch

    t = tensor.detach()
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        raise ValueError(f"expected shape (3, H, W), got {tuple(tensor.shape)}")
    # One float copy (clamp), then in place: a 12-megapixel image is 144 MB per float copy.
    arr = t.float().clamp(0.0, 1.0).mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()
    return Image.fromarray(arr)


__all__ = [
    "MAX_PIXELS",
    "TELEGRAM_DOCUMENT_MAX_BYTES",
    "TELEGRAM_PHOTO_MAX_BYTES",
    "BadImage",
    "encode_jpeg",
    "encode_png",
    "fit_long_side",
    "open_image",
    "resize_long_side",
    "to_image",
    "to_tensor",
]
