"""The job's one progress message: a text bar, percent and time left, edited at most every two seconds."""

from __future__ import annotations

import math
from collections.abc import Callable

from handler.core.job import Job
from handler.core.keyboards import progress_keyboard
from handler.core.ports import MaybeSent, Messenger, RateLimited, StateStore, TelegramUnavailable
from handler.core.texts import text
from handler.observability import logger

BAR_CELLS = 12
EDIT_INTERVAL_SECONDS = 2.0


def bar(fraction: float) -> str:
    filled = min(BAR_CELLS, max(0, math.floor(fraction * BAR_CELLS)))
    return "▓" * filled + "░" * (BAR_CELLS - filled)


def render(job: Job, fraction: float, eta_seconds: float | None, preset_name: str) -> str:
    title = (
        text("progress_title_preset", job.language, preset=preset_name)
        if job.kind == "preset"
        else text("progress_title_nst", job.language)
    )
    eta = (
        ""
        if eta_seconds is None or fraction >= 1.0
        else text("progress_eta", job.language, seconds=math.ceil(eta_seconds))
    )
    return text("progress", job.language, title=title, bar=bar(fraction), percent=math.floor(fraction * 100), eta=eta)


class ProgressMessage:
    """Edits the job's message as the work advances, throttled, backing off when Telegram says 429."""

    def __init__(
        self,
        messenger: Messenger,
        store: StateStore,
        job: Job,
        message_id: int,
        *,
        clock: Callable[[], float],
        preset_name: str = "",
        interval: float = EDIT_INTERVAL_SECONDS,
    ) -> None:
        self._messenger = messenger
        self._store = store
        self._job = job
        self.message_id = message_id
        self._clock = clock
        self._preset_name = preset_name
        self._interval = interval
        self._next_edit = 0.0
        self._last_text = ""
        self.closed = False

    def report(self, fraction: float, eta_seconds: float | None) -> None:
        """Show the progress, unless the last edit was too recent (or Telegram asked us to wait)."""
        now = self._clock()
        if self.closed or now < self._next_edit:
            return
        message = render(self._job, fraction, eta_seconds, self._preset_name)
        if message == self._last_text:
            return
        # Stamp Cancel with the user's current generation, so that it stays a live button.
        generation = self._store.load(self._job.user_id).generation
        try:
            self._messenger.edit_text(
                self._job.chat_id, self.message_id, message, progress_keyboard(self._job.language), generation
            )
        except RateLimited as limited:
            logger.info("progress edits paused by Telegram", extra={"retry_after": limited.retry_after})
            self._next_edit = now + limited.retry_after
            return
        except (TelegramUnavailable, MaybeSent) as error:
            # Progress is best effort: the next report tries again, and the job goes on.
            logger.info("progress edit failed", extra={"reason": str(error)})
        self._last_text = message
        self._next_edit = now + self._interval

    def close(self, final_text: str) -> None:
        """Replace the progress with a final line and no buttons (best effort)."""
        self.closed = True
        try:
            self._messenger.edit_text(self._job.chat_id, self.message_id, final_text)
        except RateLimited:
            logger.info("final progress edit skipped: rate limited")
        except (TelegramUnavailable, MaybeSent) as error:
            logger.info("final progress edit failed", extra={"reason": str(error)})
