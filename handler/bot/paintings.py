"""The famous paintings' gallery: their previews (committed with the code) as one album, captioned with title,
artist and year in the user's language, in the presets' gallery layout."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from handler.bot.gallery import send_album_of
from handler.core.inputs import PaintingInfo
from handler.core.ports import Previews, Telegram


async def send_painting_previews(
    telegram: Telegram, previews: Previews, chat_id: int, shown: Sequence[PaintingInfo], language: str
) -> None:
    """Send the previews of the paintings `shown`, each captioned in `language`."""
    items = [(f"painting:{p.id}", partial(previews.painting, p.id), p.caption(language)) for p in shown]
    await send_album_of(telegram, chat_id, items)
