"""The job's one progress message: a bar, percent and time left, edited at most every two seconds, and for a
best-quality job the picture as it forms.

The message starts as text (the webhook sends it when the job starts). The engine makes a preview at the end of
each pyramid level of a best-quality job: the first one turns the progress into a photo message (Telegram cannot
turn a text message into a photo, so a photo with the bar in its caption and Cancel under it is sent, and the
text message deleted), and each later one is swapped in with `editMessageMedia`, at most one every
`PREVIEW_INTERVAL_SECONDS`. Quick and preset jobs make no previews: their progress stays text."""

from __future__ import annotations

import math
from collections.abc import Callable

from handler.core.job import Job, Kind
from handler.core.keyboards import Keyboard, progress_keyboard
from handler.core.ports import (
    MaybeSent,
    Messenger,
    RateLimited,
    StateStore,
    StoreUnavailable,
    TelegramRefused,
    TelegramUnavailable,
)
from handler.core.texts import text
from handler.observability import logger

BAR_CELLS = 12
EDIT_INTERVAL_SECONDS = 2.0
#: The time left is shown in minutes from this many seconds on.
MINUTES_FROM_SECONDS = 300
#: At most one new picture in the progress message this often (an upload each; Telegram limits edits per chat).
PREVIEW_INTERVAL_SECONDS = 5.0


def bar(fraction: float) -> str:
    filled = min(BAR_CELLS, max(0, math.floor(fraction * BAR_CELLS)))
    return "▓" * filled + "░" * (BAR_CELLS - filled)


def render(job: Job, fraction: float, eta_seconds: float | None, preset_name: str) -> str:
    title = (
        text("progress_title_preset", job.language, preset=preset_name)
        if job.kind == Kind.PRESET
        else text("progress_title_nst", job.language)
    )
    eta = "" if eta_seconds is None or fraction >= 1.0 else time_left(eta_seconds, job.language)
    return text("progress", job.language, title=title, bar=bar(fraction), percent=math.floor(fraction * 100), eta=eta)


def time_left(seconds: float, language: str) -> str:
    """ "about 40 s left", or in whole minutes from `MINUTES_FROM_SECONDS` on (no false precision)."""
    if seconds >= MINUTES_FROM_SECONDS:
        return text("progress_eta_minutes", language, minutes=round(seconds / 60))
    return text("progress_eta", language, seconds=math.ceil(seconds))


class ProgressMessage:
    """Edits the job's message as the work advances, throttled, backing off when Telegram says 429; shows the
    engine's previews (see the module's docstring)."""

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
        preview_interval: float = PREVIEW_INTERVAL_SECONDS,
    ) -> None:
        self._messenger = messenger
        self._store = store
        self._job = job
        self.message_id = message_id
        self._clock = clock
        self._preset_name = preset_name
        self._interval = interval
        self._preview_interval = preview_interval
        self._next_edit = 0.0
        self._next_picture = 0.0
        self._last_text = ""
        self._pending: bytes | None = None  # the newest preview not shown yet
        self._previews_off = False  # a photo message may exist whose id we never got: send no other
        self.is_photo = False
        self.closed = False

    def report(self, fraction: float, eta_seconds: float | None, preview: bytes | None = None) -> None:
        """Show the progress, unless the last edit was too recent (or Telegram asked us to wait). A preview waits
        for the next edit that may show a picture; a newer one replaces it, and none is shown at 100 %."""
        if preview is not None and not self._previews_off:
            self._pending = preview
        if fraction >= 1.0:
            self._pending = None  # the result itself follows at once
        now = self._clock()
        if self.closed or now < self._next_edit:
            return
        message = render(self._job, fraction, eta_seconds, self._preset_name)
        picture = self._pending if now >= self._next_picture else None
        if picture is None and message == self._last_text:
            return
        # Stamp Cancel with the user's current generation, so that it stays a live button.
        generation = self._store.load(self._job.user_id).generation
        keyboard = progress_keyboard(self._job.language)
        try:
            if picture is not None:
                self._show_picture(picture, message, keyboard, generation)
                self._next_picture = now + self._preview_interval
            elif self.is_photo:
                self._messenger.edit_caption(self._job.chat_id, self.message_id, message, keyboard, generation)
            else:
                self._messenger.edit_text(self._job.chat_id, self.message_id, message, keyboard, generation)
        except RateLimited as limited:
            logger.info("progress edits paused by Telegram", extra={"retry_after": limited.retry_after})
            self._next_edit = now + limited.retry_after
            return
        except (TelegramUnavailable, MaybeSent) as error:
            # Progress is best effort: the next report tries again, and the job goes on.
            logger.info("progress edit failed", extra={"reason": str(error)})
        self._last_text = message
        self._next_edit = now + self._interval

    def _show_picture(self, picture: bytes, caption: str, keyboard: Keyboard, generation: int) -> None:
        """Swap the preview in; the first one replaces the text message with a photo message."""
        chat_id = self._job.chat_id
        self._pending = None
        if self.is_photo:
            if not self._messenger.edit_preview(chat_id, self.message_id, picture, caption, keyboard, generation):
                self._previews_off = True  # the message is gone or cannot take a picture: the caption goes on
            return
        try:
            photo_id = self._messenger.send_preview(chat_id, picture, caption, keyboard, generation)
        except (MaybeSent, TelegramRefused) as error:
            # Refused (the picture?), or the photo may be in the chat although its id never came (a second one
            # could show two progress messages): the progress stays text from here on.
            logger.info("no preview: the progress stays text", extra={"reason": str(error)})
            self._previews_off = True
            self._messenger.edit_text(chat_id, self.message_id, caption, keyboard, generation)
            return
        text_id, self.message_id, self.is_photo = self.message_id, photo_id, True
        # Where the failure destination looks should this worker die: it finds the job's message in the job item.
        try:
            self._store.move_progress(self._job.user_id, self._job.job_id, photo_id)
        except StoreUnavailable:
            logger.warning("the progress photo's id could not be stored", extra={"job_id": self._job.job_id})
        if not self._messenger.delete_message(chat_id, text_id):
            # Not deleted (too old to delete?): at least its Cancel goes, so that one progress message has one.
            self._messenger.edit_text(chat_id, text_id, caption)

    def close(self, final_text: str, *, keep_picture: bool = True) -> None:
        """Replace the progress with a final line and no buttons (best effort). A photo message keeps its picture
        with the line as its caption, or, with `keep_picture=False` (the result follows), makes way for the line
        as a text message (which a later `close`, an apology for a result that could not be sent, edits)."""
        self.closed = True
        chat_id = self._job.chat_id
        try:
            if not self.is_photo:
                self._messenger.edit_text(chat_id, self.message_id, final_text)
            elif keep_picture or not self._messenger.delete_message(chat_id, self.message_id):
                self._messenger.edit_caption(chat_id, self.message_id, final_text)
            else:
                self.is_photo = False
                self.message_id = self._messenger.send_text(chat_id, final_text)
        except RateLimited:
            logger.info("final progress edit skipped: rate limited")
        except (TelegramUnavailable, MaybeSent) as error:
            logger.info("final progress edit failed", extra={"reason": str(error)})


def show_final(messenger: Messenger, chat_id: int, message_id: int, final_text: str) -> None:
    """The last word of a job whose `ProgressMessage` this process does not hold (the failure destination's):
    in its progress message, text or photo, or, where that is gone or cannot be edited, as a new message."""
    if messenger.edit_text(chat_id, message_id, final_text):
        return
    if messenger.edit_caption(chat_id, message_id, final_text):
        return
    messenger.send_text(chat_id, final_text)
