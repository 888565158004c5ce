"""What this deployment can run, from the torch-free registry of the `ml` package: the preset styles whose
weights are present and verified, the qualities of own style, and what is missing."""

from __future__ import annotations

from pathlib import Path

from handler.adapters.paintings import painting_catalog
from handler.core.inputs import Catalogue, PresetInfo
from handler.core.job import Language, Quality
from ml import paintings, registry
from ml.manifest import FETCH_COMMAND


def _info(preset: registry.Preset) -> PresetInfo:
    return PresetInfo(preset.id, dict(preset.names))


def preset_catalog() -> tuple[PresetInfo, ...]:
    """The presets this deployment offers and can run (non-commercial ones only where the operator allows)."""
    return tuple(_info(p) for p in registry.runnable())


def weights_notice(offer: Catalogue) -> str | None:
    """For the console of local mode, one line: what is off for want of its weights, and the command that fetches
    them (None: everything can run)."""
    if offer.complete:
        return None
    missing = [f"{q} quality" for q in Quality if q not in offer.qualities]
    missing += [p.name(Language.EN) for p in offer.missing_presets]
    off = ", ".join(missing)
    return f"Off until their weights are fetched: {off}. To fetch them (needs internet): {offer.fetch_command}"


def catalogue() -> Catalogue:
    """Everything offered here, and what is not (with the command that fetches it)."""
    runnable = registry.runnable()
    ids = {p.id for p in runnable}
    return Catalogue(
        presets=tuple(_info(p) for p in runnable),
        qualities=tuple(Quality(q) for q in registry.runnable_qualities()),
        missing_presets=tuple(_info(p) for p in registry.available() if p.id not in ids),
        fetch_command=FETCH_COMMAND,
        paintings=painting_catalog(),
    )


class PreviewFiles:
    """The `Previews` port on files: the presets' previews rendered at image build, the paintings' committed with
    the code; a file not there is a missing preview."""

    def preset(self, preset_id: str) -> bytes | None:
        return _read(registry.preview_file(preset_id))

    def painting(self, painting_id: str) -> bytes | None:
        return _read(paintings.get_painting(painting_id).preview)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None
