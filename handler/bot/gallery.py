"""The preset gallery's previews: one album of the presets' preview pictures, sent before the style buttons."""

from __future__ import annotations

from collections.abc import Sequence

from handler.core.inputs import PresetInfo
from handler.core.ports import Telegram, TelegramFailed
from handler.observability import logger
from ml import registry

# Telegram's file ids of previews already uploaded by this container: later albums reuse them.
_uploaded: dict[str, str] = {}


async def send_previews(telegram: Telegram, chat_id: int, presets: Sequence[PresetInfo], language: str) -> None:
    """Send the previews that exist (rendered at image build); a missing one is skipped, never an error."""
    items: list[tuple[str, bytes | str, str]] = []
    for preset in presets[:10]:  # an album holds at most ten pictures
        media: str | bytes | None = _uploaded.get(preset.id)
        if media is None:
            path = registry.preview_file(preset.id)
            media = path.read_bytes() if path.is_file() else None
        if media is not None:
            items.append((preset.id, media, preset.name(language)))
    if len(items) < 2:  # an album needs two pictures; without previews the buttons alone do
        return
    try:
        sent = await telegram.send_album(chat_id, [(media, caption) for _, media, caption in items])
    except TelegramFailed as error:
        logger.warning("previews not sent", extra={"reason": str(error)})
        return
    for (preset_id, _, _), file_id in zip(items, sent, strict=False):
        if file_id is not None:
            _uploaded[preset_id] = file_id
