"""The preset styles the gallery offers, from the torch-free registry of the `ml` package."""

from __future__ import annotations

from handler.core.inputs import PresetInfo
from ml import registry


def preset_catalog() -> tuple[PresetInfo, ...]:
    """The presets this deployment offers (non-commercial ones only where the operator allows them)."""
    return tuple(PresetInfo(p.id, dict(p.names)) for p in registry.available())
