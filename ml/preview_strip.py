"""The preview strip: the photo at a few strengths side by side, each labelled, made by MicroAST in about a second,
so that a user sees what a strength does before the full job.

One small image (at most ``STRIP_WIDTH`` px wide: ``STRIP_WIDTH / len(strengths)`` a panel). Each panel is made
as a quick job makes its picture (MicroAST at ``internal`` px on the long side, then scaled down), from one
encoding of the photo and of the style per strength.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from ml import color, device, imageio

STRIP_WIDTH = 768
LABEL_HEIGHT = 30
LABEL_FONT_SIZE = 20
_BAND = (24, 24, 24)
_INK = (255, 255, 255)


def compose(panels: Sequence[Image.Image], labels: Sequence[str]) -> Image.Image:
    """The panels side by side, each with its label in a band under it."""
    width = sum(p.width for p in panels)
    height = max(p.height for p in panels)
    strip = Image.new("RGB", (width, height + LABEL_HEIGHT), _BAND)
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=LABEL_FONT_SIZE)
    x = 0
    for panel, label in zip(panels, labels, strict=True):
        strip.paste(panel, (x, (height - panel.height) // 2))
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        position = (x + (panel.width - (right - left)) // 2 - left, height + (LABEL_HEIGHT - (bottom - top)) // 2 - top)
        draw.text(position, label, fill=_INK, font=font)
        x += panel.width
    return strip


def render(
    content: Image.Image,
    style: Image.Image,
    *,
    strengths: Sequence[float],
    labels: Sequence[str],
    keep_colors: bool = False,
    mix: Image.Image | None = None,
    mix_share: float = 0.5,
    internal: int = 512,
) -> Image.Image:
    """The strip of `content` in the manner of `style` (mixed with `mix`, if given) at each of `strengths`: one
    encoding of the photo and the style, one decoding a strength."""
    from ml.microast import cached_microast, run_microast_strengths

    device.configure_threads()
    model = cached_microast()
    photo = imageio.to_tensor(imageio.resize_long_side(content.convert("RGB"), internal))
    style_t = imageio.to_tensor(imageio.resize_long_side(style.convert("RGB"), internal))
    mix_t = None if mix is None else imageio.to_tensor(imageio.resize_long_side(mix.convert("RGB"), internal))
    panel_width = STRIP_WIDTH // len(strengths)
    panels = []
    for out in run_microast_strengths(model, photo, style_t, list(strengths), mix=mix_t, mix_share=mix_share):
        if keep_colors:
            out = color.keep_colors(out, photo, "luminance")
        panel = imageio.to_image(out)
        height = max(1, round(panel.height * panel_width / panel.width))
        panels.append(panel.resize((panel_width, height), Image.Resampling.LANCZOS))
    return compose(panels, labels)
