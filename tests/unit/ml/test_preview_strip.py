"""The preview strip on MicroAST's real bundled weights: three strengths side by side, labelled, at most 768 px
wide, each panel what a quick job at that strength makes (one encoding, one decoding a strength)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ml import api, imageio, paintings
from ml.microast import load_microast, run_microast, run_microast_strengths
from ml.preview_strip import LABEL_HEIGHT, STRIP_WIDTH


def test_one_encoding_gives_what_a_run_a_strength_gives(cat: Image.Image) -> None:
    model = load_microast()
    content = imageio.to_tensor(imageio.resize_long_side(cat, 96))
    style = imageio.to_tensor(imageio.resize_long_side(Image.open(paintings.get_painting("udnie").file), 96))
    mix = imageio.to_tensor(imageio.resize_long_side(Image.open(paintings.get_painting("the_scream").file), 96))
    for kwargs in ({}, {"mix": mix, "mix_share": 0.3}):
        many = run_microast_strengths(model, content, style, [0.5, 0.8, 1.0], **kwargs)  # type: ignore[arg-type]
        for alpha, out in zip((0.5, 0.8, 1.0), many, strict=True):
            assert torch.allclose(out, run_microast(model, content, style, alpha, **kwargs), atol=1e-4)  # type: ignore[arg-type]


@pytest.mark.parametrize("long_side", ["landscape", "portrait"])
def test_the_strip_is_three_labelled_panels_at_most_768_px_wide(cat: Image.Image, long_side: str) -> None:
    photo = cat if long_side == "landscape" else cat.transpose(Image.Transpose.ROTATE_90)
    style = Image.open(paintings.get_painting("starry_night").file)
    strip = api.preview_strip(photo, style, strengths=[0.5, 0.8, 1.0], labels=["50 %", "80 %", "100 %"])
    # Then three panels of a third of 768 px each, with a label band under them
    assert strip.width == STRIP_WIDTH
    panel_height = round(photo.height * 256 / photo.width)
    assert abs(strip.height - (panel_height + LABEL_HEIGHT)) <= 1
    pixels = np.asarray(strip, dtype=np.float32)
    panels = [pixels[:panel_height, i * 256 : (i + 1) * 256] for i in range(3)]
    # And the panels differ (the strength shows), and each label band carries its text
    assert np.abs(panels[0] - panels[2]).mean() > 5
    for i in range(3):
        band = pixels[panel_height + 2 :, i * 256 : (i + 1) * 256]
        assert band.max() > 200 and band.min() < 60  # light text on the dark band
    with pytest.raises(ValueError):
        api.preview_strip(photo, style, strengths=[0.5, 1.5], labels=["a", "b"])
