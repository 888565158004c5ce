"""The famous paintings' gallery previews: each painting applied by MicroAST, with its real bundled weights, to the
public-domain sample photo of the preset previews, at the previews' size and JPEG quality (one layout for both
galleries). ``python -m ml paintings previews`` writes them into the package; they are committed, and a test
checks that the command still makes them from the committed inputs.

Rendered exactly as a user's quick job with that painting would be (``ml.engine.stylize``), on one thread, so
that any machine makes the same pixels (to within what JPEG keeps).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ml import api, engine, imageio
from ml.device import THREADS_ENV
from ml.paintings import PREVIEWS_DIR, get_painting
from ml.presets import PREVIEW_QUALITY, PREVIEW_SIDE, PREVIEW_SOURCE

PREVIEW_THREADS = 1


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """PyTorch's thread count fixed at `count` meanwhile (the engine reads it from the environment)."""
    import torch

    saved_env, saved_threads = os.environ.get(THREADS_ENV), torch.get_num_threads()
    os.environ[THREADS_ENV] = str(count)
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop(THREADS_ENV, None)
        else:
            os.environ[THREADS_ENV] = saved_env
        torch.set_num_threads(saved_threads)


def render(painting_id: str, *, source: Path = PREVIEW_SOURCE) -> bytes:
    """The preview JPEG of one painting: the sample photo at quick quality, full strength, its own colours."""
    painting = get_painting(painting_id)
    photo = imageio.open_image(source)
    style = imageio.open_image(painting.file)
    with _threads(PREVIEW_THREADS):
        styled = engine.stylize(
            photo,
            style,
            quality="quick",
            size=PREVIEW_SIDE,
            strength=1.0,
            keep_colors=False,
            quick_min_internal=api.QUICK_MIN_INTERNAL,
        )
    return imageio.encode_jpeg(styled, quality=PREVIEW_QUALITY)


def render_previews(
    painting_ids: Iterable[str],
    *,
    out_dir: Path = PREVIEWS_DIR,
    report: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write `<out_dir>/<id>.jpg` for each painting; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for painting_id in painting_ids:
        path = out_dir / f"{get_painting(painting_id).id}.jpg"
        tmp = path.with_suffix(".jpg.part")
        tmp.write_bytes(render(painting_id))
        os.replace(tmp, path)
        if report is not None:
            report(f"{painting_id}: preview {path}")
        written.append(path)
    return written
