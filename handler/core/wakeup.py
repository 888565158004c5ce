"""A note the bot leaves itself, to come back to a user a little later (the `Timer` port): plain data, and the
small JSON event that carries it where the wait happens in another invocation (on Lambda, the webhook's own).

No image, no token, nothing but ids: an event of a few hundred bytes. API Gateway never sends an event with
`WAKEUP_KEY` at its top level, so a webhook call cannot pass for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handler.core.inputs import AlbumDue

# The key that marks the event of a wakeup, and says which.
WAKEUP_KEY = "stylebot_wakeup"


class WakeupKind(StrEnum):
    ALBUM_DUE = "album_due"  # an album's short wait for a third picture is over (`AlbumDue`)


@dataclass(frozen=True)
class Wakeup:
    """Come back to `user_id` in `chat_id` with `due` at `at` (seconds since the epoch); `telegram_language` is
    the user's Telegram language, for the texts of a user who chose none."""

    user_id: int
    chat_id: int
    telegram_language: str | None
    due: AlbumDue
    at: float

    def to_event(self) -> dict[str, Any]:
        return {
            WAKEUP_KEY: WakeupKind.ALBUM_DUE.value,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "language": self.telegram_language,
            "album_id": self.due.album_id,
            "generation": self.due.generation,
            "at": self.at,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Wakeup | None:
        """The wakeup an event carries; None if it carries none (an API Gateway event, or anything else)."""
        if event.get(WAKEUP_KEY) != WakeupKind.ALBUM_DUE:
            return None
        user_id, chat_id, generation = event.get("user_id"), event.get("chat_id"), event.get("generation")
        album_id, language, at = event.get("album_id"), event.get("language"), event.get("at")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (user_id, chat_id, generation)):
            return None
        if not isinstance(album_id, str) or not isinstance(at, int | float) or not isinstance(language, str | None):
            return None
        return cls(user_id, chat_id, language, AlbumDue(album_id, generation), float(at))  # type: ignore[arg-type]
