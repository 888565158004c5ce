"""The preset styles the gallery offers (ids and localized names; the models live in `ml`)."""

from __future__ import annotations

from handler.core.conversation import PresetInfo

_PRESETS = (
    PresetInfo("monet", {"en": "Monet", "ru": "Моне"}),
    PresetInfo("vangogh", {"en": "Van Gogh", "ru": "Ван Гог"}),
    PresetInfo("cezanne", {"en": "Cézanne", "ru": "Сезанн"}),
    PresetInfo("ukiyoe", {"en": "Ukiyo-e", "ru": "Укиё-э"}),
    PresetInfo("paprika", {"en": "Anime (Paprika)", "ru": "Аниме (Paprika)"}),
    PresetInfo("face_paint", {"en": "Cartoon portrait", "ru": "Мультяшный портрет"}),
)


def preset_catalog() -> tuple[PresetInfo, ...]:
    return _PRESETS
