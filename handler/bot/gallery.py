"""The galleries' previews: one album of preview pictures, each captioned, sent before the style buttons. The
presets' gallery and the famous paintings' share this one layout."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from handler.core.inputs import PresetInfo
from handler.core.ports import Previews, Telegram, TelegramFailed
from handler.observability import logger

# Telegram's file ids of previews already uploaded by this container, by key: later albums reuse them.
_uploaded: dict[str, str] = {}
ALBUM_MAX = 10  # an album holds at most ten pictures


async def send_previews(
    telegram: Telegram, previews: Previews, chat_id: int, presets: Sequence[PresetInfo], language: str
) -> None:
    """Send the presets' previews that exist (rendered at image build); a missing one is skipped, never an error."""
    items = [(f"preset:{p.id}", partial(previews.preset, p.id), p.name(language)) for p in presets]
    await send_album_of(telegram, chat_id, items)


# A gallery's item: its key, what reads its picture (None: missing), and its caption.
Item = tuple[str, Callable[[], bytes | None], str]


async def send_album_of(telegram: Telegram, chat_id: int, items: Sequence[Item]) -> None:
    """Send the pictures of `items` that exist as one album; fewer than two, none."""
    found: list[tuple[str, bytes | str, str]] = []
    for key, read, caption in items[:ALBUM_MAX]:
        media: str | bytes | None = _uploaded.get(key)
        if media is None:
            media = read()
        if media is not None:
            found.append((key, media, caption))
    if len(found) < 2:  # an album needs two pictures; without previews the buttons alone do
        return
    try:
        sent = await telegram.send_album(chat_id, [(media, caption) for _, media, caption in found])
    except TelegramFailed as error:
        logger.warning("previews not sent", extra={"reason": str(error)})
        return
    for (key, _, _), file_id in zip(found, sent, strict=False):
        if file_id is not None:
            _uploaded[key] = file_id
