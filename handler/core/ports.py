"""Ports: what the core needs from the outside world. Adapters live in `handler.adapters`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from handler.core.job import Job, JobStatus
from handler.core.keyboards import Keyboard
from handler.core.limits import CLAIM_STALE_SECONDS
from handler.core.quotas import QuotaKind
from handler.core.state import UserState
from handler.core.stats import DaySummary, JobRecord
from handler.core.wakeup import Wakeup


class StoreUnavailable(Exception):
    """The state store could not be reached; the caller should let the update be redelivered."""


class UpdateInProgress(Exception):
    """Another delivery of the update is being processed right now; Telegram should try again later."""


class UpdateLedger(Protocol):
    """Remembers which Telegram updates were taken, so that a redelivered update is processed once.

    A claim is "processing" until `finish_update` marks it done. A claim left processing for longer than the
    stale time was made by an attempt that died (or whose write landed after its caller gave up, as in a store
    outage): the next delivery takes it over, so no update is lost.
    """

    def claim_update(self, update_id: int, *, stale_after: float = CLAIM_STALE_SECONDS) -> bool:
        """Take the update: True to process it, False if it was done before; UpdateInProgress if another
        delivery is processing it right now."""
        ...

    def finish_update(self, update_id: int) -> None:
        """Mark the update done: later deliveries are dropped."""
        ...

    def release_update(self, update_id: int) -> None:
        """Forget a claim whose processing failed, so that Telegram's redelivery is processed."""
        ...


class StateStore(UpdateLedger, Protocol):
    """Per-user state with optimistic concurrency, job items, and erasure."""

    def load(self, user_id: int) -> UserState:
        """The user's state (a fresh one, version 0, if nothing is stored)."""
        ...

    def save(self, state: UserState) -> UserState | None:
        """Write `state` if the stored version is still `state.version`; the saved state, or None on conflict."""
        ...

    def put_job(self, job: Job, status: JobStatus) -> None:
        """Store a job item (ids and options only) with its status."""
        ...

    def job_status(self, user_id: int, job_id: str) -> JobStatus | None: ...

    def load_job(self, user_id: int, job_id: str) -> Job | None:
        """The job item's job, while it is stored (None once it expired or was erased)."""
        ...

    def beat(self, user_id: int, job_id: str, at: float) -> None:
        """Record that the job's worker is alive at `at` (seconds since the epoch)."""
        ...

    def last_beat(self, user_id: int, job_id: str) -> float | None:
        """When the job's worker last said it was alive (None: never)."""
        ...

    def move_progress(self, user_id: int, job_id: str, message_id: int) -> None:
        """The job's progress now lives in message `message_id` (a photo that replaced the text message):
        `load_job` gives it as the job's `progress_message_id` from now on. Nothing if the job is gone."""
        ...

    def set_job_status(self, user_id: int, job_id: str, status: JobStatus, *, only_from: tuple[JobStatus, ...]) -> bool:
        """Move a job to `status` if it is in one of `only_from`; False if it was not."""
        ...

    def forget(self, user_id: int) -> int:
        """Delete every item stored for the user; returns how many were deleted."""
        ...


class Usage(Protocol):
    """Today's counters: per-user quotas, the global budget, refusals and job records (for /stats).

    Every change is one atomic update, so counts stay exact however many webhooks and workers race them. Each
    counter expires (TTL) a while after its day."""

    def todays_counts(self, user_id: int, day: str) -> tuple[dict[QuotaKind, int], float]:
        """The user's jobs of `day` by kind, and the worker-seconds everyone used that day."""
        ...

    def take_quota(self, user_id: int, day: str, kind: QuotaKind, limit: int | None) -> bool:
        """Count one job of `kind` for the user if fewer than `limit` were counted (None: no limit); False if
        the quota was used up."""
        ...

    def count_refusal(self, day: str, kind: QuotaKind) -> None: ...

    def add_worker_seconds(self, day: str, seconds: float, gb_seconds: float) -> float:
        """Add a worker invocation's run time to the day's budget; returns the day's new total of seconds."""
        ...

    def record_job(self, day: str, record: JobRecord) -> None: ...

    def day_summary(self, day: str) -> DaySummary: ...


class Paces(Protocol):
    """The recent jobs' paces (seconds taken over seconds expected, `handler.core.pace`) per key: on the state
    table, each a small item that expires with the daily counters."""

    def recent_paces(self, key: str) -> list[float]:
        """The last `RECENT_PACES` paces recorded under `key`, newest first."""
        ...

    def add_pace(self, key: str, pace: float, at: float) -> None:
        """Record a job's pace under `key`, measured at `at` (seconds since the epoch)."""
        ...


@dataclass(frozen=True)
class ActiveJob:
    """A job that is queued or running, as the queue sees it."""

    job: Job
    status: JobStatus
    enqueued_at: float


@dataclass(frozen=True)
class PositionLease:
    """A queued job's message as the holder of its refresh lease reads it: the lowest count any writer wants it to
    show, and the count it was last edited to (None: none yet)."""

    wanted: int
    shown: int | None


class JobQueue(Protocol):
    """The jobs handed to the worker and not finished yet, in the order they were started; and, per queued job,
    the count of pictures ahead that its message should show and a short lease on editing it
    (`handler.core.queue.positions_to_show` is the protocol that uses them).

    Every method is one atomic conditional write on the job's item, and each applies only while the job is
    queued (never to a job that started, ended, or was erased by /forget)."""

    def active_jobs(self, since: float) -> list[ActiveJob]:
        """Queued and running jobs started at or after `since`, oldest first."""
        ...

    def want_position(self, user_id: int, job_id: str, ahead: int) -> bool:
        """Lower the count the job's message should show to `ahead`: True if it was lowered, False if the job
        is not queued or a count as low or lower is wanted already. Never raises the count."""
        ...

    def take_refresh(self, user_id: int, job_id: str, holder: str, *, now: float, until: float) -> PositionLease | None:
        """Take the job's refresh lease for `holder` until `until`, if nobody holds it (or the lease of whoever
        held it ended before `now`): the counts wanted and shown; None if someone else holds it or the job is
        not queued."""
        ...

    def end_refresh(self, user_id: int, job_id: str, holder: str, shown: int, *, until: float) -> PositionLease | None:
        """`holder` edited the message to `shown`: record it, and let the lease go if no lower count is wanted
        (None). If a lower one is wanted, keep the lease (until `until`) and return the counts: the holder edits
        again. None too if `holder` no longer holds the lease (it ran out and was taken) or the job left the
        queue."""
        ...

    def release_refresh(self, user_id: int, job_id: str, holder: str) -> None:
        """Let `holder`'s lease go without recording an edit (its edit failed); nothing if it does not hold it."""
        ...


class JobDispatcher(Protocol):
    """Hands a job to whatever runs it (an async Lambda invocation, or a local pool)."""

    def dispatch(self, job: Job) -> None: ...


class Timer(Protocol):
    """Comes back with a note the bot left itself (`Wakeup`) once its time has come: an asyncio task in local
    mode; on Lambda, an asynchronous invocation of the webhook function itself, which waits out the rest of the
    time and acts (`handler.core.decide`, albums, says why no invocation can just wait for the next update)."""

    def schedule(self, wakeup: Wakeup) -> None:
        """Have `wakeup` handled at `wakeup.at`; raises if that cannot be arranged (the caller then acts now)."""
        ...


class TelegramFailed(Exception):
    """A Bot API call did not do what was asked, after the gateway's retries. The subclasses say how."""


class RateLimited(TelegramFailed):
    """The Bot API asked us to wait (429 with `retry_after`) longer than the gateway waits, or an edit was refused
    for now (an edit is never waited for: the next one replaces it)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class MaybeSent(TelegramFailed):
    """A send Telegram got but never answered in time: it may have reached the user, so it is not repeated."""


class TelegramUnavailable(TelegramFailed):
    """Telegram could not be reached, or answered 5xx, on every try: the call was not carried out."""


class TelegramRefused(TelegramFailed):
    """Telegram answered the call with an error that trying again does not change (400, 401, 403, ...).

    `code` is the HTTP status, `reason` Telegram's description (never the bot token)."""

    def __init__(self, method: str, code: int, reason: str) -> None:
        super().__init__(f"Telegram refused {method}: {code} {reason}")
        self.method = method
        self.code = code
        self.reason = reason


class Telegram(Protocol):
    """The one port to the Telegram Bot API (`handler.adapters.telegram_gateway`). Keyboards are stamped with
    `generation`. Failures raise `TelegramFailed` subclasses, after the gateway's one retry policy."""

    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int:
        """Send a message; its id. MaybeSent when it may have arrived although Telegram did not say so."""
        ...

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        """Show `text` in the message: True once it does (also when it already did: "not modified"); False when
        Telegram refuses the edit (the message is gone or can no longer be edited). RateLimited on 429."""
        ...

    async def remove_keyboard(self, chat_id: int, message_id: int) -> bool:
        """Take the inline keyboard off a message; False when the message has none or is gone."""
        ...

    async def send_picture(
        self,
        chat_id: int,
        data: bytes,
        *,
        as_file: bool,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
        reply_to: int | None = None,
    ) -> None:
        """Send a picture as a photo or as a file, as a reply to the message `reply_to` where it still exists
        (sent all the same where it does not). MaybeSent as for `send_text`."""
        ...

    async def send_album(self, chat_id: int, items: Sequence[tuple[bytes | str, str]]) -> list[str | None]:
        """Send pictures (bytes, or the file id of one sent before) with captions as one album; the file id of
        each picture as sent (None where Telegram gave none)."""
        ...

    async def send_preview(
        self, chat_id: int, jpeg: bytes, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> int:
        """Send a photo message that later edits replace (picture and caption: a job's live progress); its id.
        MaybeSent as for `send_text`."""
        ...

    async def edit_preview(
        self,
        chat_id: int,
        message_id: int,
        jpeg: bytes,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
    ) -> bool:
        """Swap the picture of a photo message and set its caption (`editMessageMedia`); False when Telegram
        refuses (a text message cannot become a photo; the message is gone). RateLimited on 429."""
        ...

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        """Show `caption` under a photo message, as `edit_text` does for a text message (False where Telegram
        refuses: the message has no caption to edit, or is gone)."""
        ...

    async def delete_message(self, chat_id: int, message_id: int) -> bool:
        """Delete one of the bot's messages; False when Telegram refuses (gone already, or too old)."""
        ...

    async def answer_tap(self, query_id: str, toast: str | None = None) -> None:
        """Answer a callback query (the tap of an inline button), with a short toast or none."""
        ...

    async def chat_action(self, chat_id: int, action: str) -> None:
        """Show a chat action ("typing", "upload_photo", ...) for a few seconds."""
        ...

    async def download(self, file_id: str) -> bytes:
        """The content of a file a user sent."""
        ...

    async def set_commands(self, commands: Sequence[tuple[str, str]], language_code: str | None = None) -> None:
        """Register the command menu (command, description) for users of `language_code` (None: everyone
        whose language has no menu of its own)."""
        ...


class Messenger(Protocol):
    """The `Telegram` port seen from blocking code (the worker and the failure destination): the same calls and
    the same failures, each run to its end (`handler.adapters.telegram_gateway.BlockingTelegram`)."""

    def download(self, file_id: str) -> bytes: ...

    def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool: ...

    def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int: ...

    def chat_action(self, chat_id: int, action: str) -> None: ...

    def send_preview(
        self, chat_id: int, jpeg: bytes, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> int: ...

    def edit_preview(
        self,
        chat_id: int,
        message_id: int,
        jpeg: bytes,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
    ) -> bool: ...

    def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool: ...

    def delete_message(self, chat_id: int, message_id: int) -> bool: ...

    def send_picture(
        self,
        chat_id: int,
        data: bytes,
        *,
        as_file: bool,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
        reply_to: int | None = None,
    ) -> None: ...


class WebhookRegistry(Protocol):
    """The Bot API calls the stack's webhook registration makes (the webhook, the command menus), blocking,
    through the same gateway."""

    def set_webhook(
        self, url: str, secret_token: str, allowed_updates: Sequence[str], max_connections: int
    ) -> None: ...

    def delete_webhook(self, *, drop_pending_updates: bool = False) -> None: ...

    def set_commands(self, commands: Sequence[tuple[str, str]], language_code: str | None = None) -> None: ...

    def close(self) -> None:
        """Let go of the connections (the registry of one request is not used again)."""
        ...


class BadPicture(Exception):
    """A picture of the job cannot be used; `reason` names the text that says why (`reason_<reason>`, in the
    user's language), `values` fill it in; `picture` says which: "photo", "style" (None: not known)."""

    def __init__(self, reason: str, values: Mapping[str, object] | None = None, picture: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = dict(values or {})
        self.picture = picture


class Stopped(Exception):
    """The engine stopped because `should_cancel` said so (a cancel, or the time budget)."""


class ProgressReport(Protocol):
    """How the engine tells how far a job is: the fraction done, the seconds left (None: not known yet) and, now
    and then, a preview of the picture as it forms (a small JPEG)."""

    def __call__(self, fraction: float, eta_seconds: float | None, preview: bytes | None = None) -> None: ...


class Engine(Protocol):
    """Runs a job's model: pictures in (encoded bytes), the result out (encoded bytes and a file name)."""

    def run(
        self,
        job: Job,
        content: bytes,
        style: bytes | None,
        progress: ProgressReport,
        should_cancel: Callable[[], bool],
        mix: bytes | None = None,
    ) -> tuple[bytes, str]:
        """`style`: the user's style picture (None for a painting or a preset); `mix`: the user's picture mixed in
        as the second style (None where the job mixes in a painting, or nothing)."""
        ...

    def preview(self, job: Job, content: bytes, style: bytes | None, mix: bytes | None = None) -> bytes:
        """The preview strip of an own-style job (`job.preview`): the photo at each strength, labelled (a JPEG)."""
        ...

    def preset_name(self, preset_id: str, language: str) -> str: ...

    def painting_title(self, painting_id: str, language: str) -> str:
        """The title of a famous painting (a job's style), in `language`."""
        ...


class Previews(Protocol):
    """The galleries' preview pictures, by preset or painting id; None where one is missing (never an error)."""

    def preset(self, preset_id: str) -> bytes | None: ...

    def painting(self, painting_id: str) -> bytes | None: ...
