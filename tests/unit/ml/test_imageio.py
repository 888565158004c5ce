from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from PIL import Image, PngImagePlugin

from ml import imageio
from ml.errors import BadImage


def _png(img: Image.Image, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kwargs)
    return buf.getvalue()


def _jpeg_with_orientation(img: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SecretCam"  # Make: metadata that must not survive
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_exif_orientation_is_applied() -> None:
    # Given a 60x40 JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6)
    img = Image.new("RGB", (60, 40), (200, 10, 10))
    img.paste((10, 10, 200), (0, 0, 30, 40))  # left half blue
    data = _jpeg_with_orientation(img, 6)
    # When it is opened
    out = imageio.open_image(data)
    # Then it is upright as a person sees it: portrait, blue on top, and no EXIF is carried along
    assert out.size == (40, 60)
    top = out.getpixel((20, 5))
    assert isinstance(top, tuple) and top[2] > 150 and top[0] < 100
    assert not out.info.get("exif") and not out.getexif()


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "1", "CMYK", "I;16", "I", "F", "YCbCr"])
def test_any_mode_becomes_rgb(mode: str) -> None:
    # Given an image in an unusual mode, saved in a format that keeps that mode
    src = Image.new("RGB", (32, 24), (120, 60, 30)).convert(mode)
    buf = io.BytesIO()
    src.save(buf, format="TIFF")
    # When it is opened
    out = imageio.open_image(buf.getvalue())
    # Then it is RGB and keeps its size
    assert out.mode == "RGB"
    assert out.size == (32, 24)


def test_transparency_is_composited_on_white() -> None:
    # Given a fully transparent PNG
    data = _png(Image.new("RGBA", (20, 20), (0, 0, 0, 0)))
    # When it is opened
    out = imageio.open_image(data)
    # Then the transparent area is white, not black
    assert out.getpixel((10, 10)) == (255, 255, 255)


def test_animated_gif_gives_first_frame() -> None:
    # Given a two-frame GIF, red then green
    frames = [Image.new("RGB", (20, 20), (255, 0, 0)), Image.new("RGB", (20, 20), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    # When it is opened
    out = imageio.open_image(buf.getvalue())
    # Then the first (red) frame is used
    pixel = out.getpixel((5, 5))
    assert isinstance(pixel, tuple) and pixel[0] > 200 and pixel[1] < 50


def test_pixel_guard_refuses_before_decoding() -> None:
    # Given a small file that declares 12000x12000 pixels (a decompression bomb: a 1-bit PNG)
    data = _png(Image.new("1", (12000, 12000), 0))
    assert len(data) < 200_000
    # When it is opened with the default guard
    with pytest.raises(BadImage) as info:
        imageio.open_image(data)
    # Then it is refused with a reason a person understands
    assert "too" in info.value.reason.lower() and "pixels" in info.value.reason.lower()


def test_pixel_guard_is_a_parameter() -> None:
    data = _png(Image.new("RGB", (100, 100)))
    with pytest.raises(BadImage, match="too large"):
        imageio.open_image(data, max_pixels=5000)
    assert imageio.open_image(data, max_pixels=10_000).size == (100, 100)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not an image"),
        (b"%PDF-1.4 fake", "not an image"),
    ],
)
def test_not_an_image(data: bytes, words: str) -> None:
    with pytest.raises(BadImage) as info:
        imageio.open_image(data)
    assert words in info.value.reason.lower()


def test_truncated_jpeg_is_refused(cat: Image.Image) -> None:
    # Given a JPEG cut in half (as an interrupted upload would be)
    buf = io.BytesIO()
    cat.save(buf, format="JPEG", quality=90)
    data = buf.getvalue()[: buf.tell() // 2]
    # When it is opened, Then a clear reason is given
    with pytest.raises(BadImage, match="truncated or damaged"):
        imageio.open_image(data)


def test_tiny_and_extreme_images_are_refused() -> None:
    with pytest.raises(BadImage, match="too small"):
        imageio.open_image(_png(Image.new("RGB", (8, 8))))
    with pytest.raises(BadImage, match="too narrow"):
        imageio.open_image(_png(Image.new("RGB", (2100, 20))))


def test_missing_path_is_a_bad_image(tmp_path: Path) -> None:
    with pytest.raises(BadImage, match="could not be read"):
        imageio.open_image(tmp_path / "nope.png")


@pytest.mark.parametrize(("size", "expected"), [(128, (128, 85)), (900, (900, 599)), (64, (64, 43))])
def test_resize_long_side_keeps_aspect(cat: Image.Image, size: int, expected: tuple[int, int]) -> None:
    # Given the 451x300 cat, When resized by its long side, Then the aspect ratio is kept
    out = imageio.resize_long_side(cat, size)
    assert out.size == expected


def test_jpeg_has_no_metadata_and_fits_the_limit(cat: Image.Image) -> None:
    # Given an image that carried EXIF when it came in
    data = _jpeg_with_orientation(cat, 1)
    img = imageio.open_image(data)
    # When it is encoded for Telegram with a tight byte limit
    out = imageio.encode_jpeg(img, max_bytes=12_000)
    # Then it fits, is a JPEG, and has no EXIF (no camera make) and no ICC profile
    assert len(out) <= 12_000
    decoded = Image.open(io.BytesIO(out))
    assert decoded.format == "JPEG"
    assert b"SecretCam" not in out
    assert "exif" not in decoded.info and "icc_profile" not in decoded.info


def test_jpeg_respects_telegram_dimension_sum() -> None:
    img = Image.new("RGB", (9000, 3000), (10, 20, 30))
    out = Image.open(io.BytesIO(imageio.encode_jpeg(img)))
    assert out.width + out.height <= imageio.TELEGRAM_PHOTO_MAX_DIM_SUM


def test_png_has_no_metadata() -> None:
    # Given an image with a text chunk
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "user secret")
    img = imageio.open_image(_png(Image.new("RGB", (30, 30), (1, 2, 3)), pnginfo=info))
    # When encoded as PNG
    out = imageio.encode_png(img)
    # Then the text is gone
    assert b"user secret" not in out
    assert Image.open(io.BytesIO(out)).size == (30, 30)


def test_tensor_round_trip(cat: Image.Image) -> None:
    small = imageio.resize_long_side(cat, 64)
    t = imageio.to_tensor(small)
    assert t.shape == (1, 3, small.height, small.width)
    assert t.dtype == torch.float32 and float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    back = imageio.to_image(t)
    assert back.tobytes() == small.tobytes()


def test_a_very_detailed_picture_still_encodes_as_jpeg() -> None:
    # Given noise, the most detailed picture there is (Pillow's optimising encoder runs out of buffer on it)
    noise = Image.frombytes(
        "RGB",
        (451, 300),
        bytes(
            torch.randint(
                0, 256, (451 * 300 * 3,), generator=torch.Generator().manual_seed(0), dtype=torch.uint8
            ).tolist()
        ),
    )
    # When it is encoded for Telegram
    data = imageio.encode_jpeg(noise)
    # Then it is a JPEG of the same size
    assert Image.open(io.BytesIO(data)).size == (451, 300)


def test_a_progress_preview_is_a_small_jpeg() -> None:
    # Given the picture of a pyramid level at 1024 x 683 (a best job at 1024 px)
    level = Image.radial_gradient("L").resize((1024, 683)).convert("RGB")
    # When it is encoded as a progress preview
    data = imageio.encode_preview(level)
    # Then it is a JPEG at most 512 px on its long side, shape kept, and a few tens of kB at most
    preview = Image.open(io.BytesIO(data))
    assert preview.format == "JPEG" and preview.size == (512, 342)
    assert len(data) < 60_000
    # And a smaller level keeps its size
    assert Image.open(io.BytesIO(imageio.encode_preview(level.resize((181, 121))))).size == (181, 121)
