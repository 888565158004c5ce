"""The famous paintings' gallery: their previews (committed with the code) as one album, captioned with title,
artist and year in the user's language, in the presets' gallery layout."""

from __future__ import annotations

from collections.abc import Sequence

from handler.bot.gallery import send_album_of
from handler.core.inputs import PaintingInfo
from handler.core.ports import Telegram
from ml import paintings


async def send_painting_previews(
    telegram: Telegram, chat_id: int, shown: Sequence[PaintingInfo], language: str
) -> None:
    """Send the previews of the paintings `shown`, each captioned in `language`."""
    items = [(f"painting:{p.id}", paintings.get_painting(p.id).preview, p.caption(language)) for p in shown]
    await send_album_of(telegram, chat_id, items)
