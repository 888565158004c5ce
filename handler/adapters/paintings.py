"""The famous paintings, from the torch-free catalogue of the `ml` package (their pictures ship with the code)."""

from __future__ import annotations

from handler.core.inputs import PaintingInfo
from ml import paintings


def painting_catalog() -> tuple[PaintingInfo, ...]:
    """Every painting whose picture is here, in gallery order, with its title, artist and year by language."""
    return tuple(
        PaintingInfo(p.id, dict(p.titles), dict(p.short_titles), dict(p.artists), dict(p.years))
        for p in paintings.available()
    )
