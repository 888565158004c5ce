"""One job from claim to result: the worker's whole pipeline, on ports only (store, messenger, engine)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from handler.core.freeing import free_user
from handler.core.images import pixel_size
from handler.core.job import CANCELLABLE, Job, JobStatus, Kind, Untouched
from handler.core.keyboards import result_keyboard, strip_keyboard
from handler.core.limits import ASYNC_EVENT_MAX_AGE_SECONDS, LOST_JOB_GRACE_SECONDS
from handler.core.metric_names import Dimension, Metric
from handler.core.ports import BadPicture, Engine, MaybeSent, Messenger, StateStore, Stopped, TelegramFailed
from handler.core.quotas import quota_kind
from handler.core.texts import text
from handler.jobs.progress import EDIT_INTERVAL_SECONDS, PREVIEW_INTERVAL_SECONDS, ProgressMessage, show_final
from handler.observability import emit, logger

CANCEL_CHECK_INTERVAL = 1.0
BEAT_INTERVAL = 2.0
# A duplicate delivery is refused while the first one runs (its idempotency record is "in progress").
IN_PROGRESS_ERROR = "IdempotencyAlreadyInProgressError"


UPLOAD_PHOTO = "upload_photo"
UPLOAD_FILE = "upload_document"


def result_details(
    job: Job, preset_name: str, pixels: tuple[int, int] | None = None, titles: Mapping[str, str] | None = None
) -> str:
    """What was made, in one line: the style (or the two mixed), quality, size, strength and colours of the job;
    `pixels` (the result's width and height) gives the size it really has, and a file names them; `titles`: the
    titles of the job's paintings, by id."""
    strength = text(f"strength_{job.strength}", job.language)
    size = max(pixels) if pixels else job.size  # a preset keeps the photo's own size
    if job.kind == Kind.PRESET:
        line = text("result_details_preset", job.language, preset=preset_name, size=size, strength=strength)
    else:
        found = titles or {}

        def name(painting: str | None, own: str) -> str:
            title = found.get(painting or "", painting or "")
            return text("painting_name", job.language, title=title) if painting else text(own, job.language)

        mixed = job.mix_ratio is not None
        line = text(
            "result_details_mix" if mixed else "result_details_painting" if job.painting else "result_details_nst",
            job.language,
            painting=found.get(job.painting or "", job.painting),
            first=name(job.painting, "style_yours"),
            second=name(job.mix_painting, "style_yours_second"),
            ratio=job.mix_ratio.label if job.mix_ratio else "",
            quality=text(f"quality_{job.quality}", job.language),
            size=size,
            strength=strength,
            colors=text("colors_kept" if job.keep_colors else "colors_styled", job.language),
        )
    if job.as_file and pixels:
        line = f"{line} {text('result_file', job.language, width=pixels[0], height=pixels[1])}"
    return line


def result_caption(job: Job, preset_name: str, titles: Mapping[str, str] | None = None) -> str:
    """The caption under a result: the style alone (a preset, a painting, the user's own style picture, or two
    mixed), what stays with the picture when it is forwarded. The summary line says the rest."""
    if job.kind == Kind.PRESET:
        return preset_name
    found = titles or {}

    def name(painting: str | None, own: str) -> str:
        title = found.get(painting or "", painting or "")
        return text("painting_name", job.language, title=title) if painting else text(own, job.language)

    first = name(job.painting, "style_yours")
    first = first if job.painting else first[:1].upper() + first[1:]  # "Your style" begins the caption
    if job.mix_ratio is None:
        return first
    second = name(job.mix_painting, "style_yours_second")
    return text("result_caption_mix", job.language, first=first, second=second, ratio=job.mix_ratio.label)


@dataclass
class JobRunner:
    store: StateStore
    messenger: Messenger
    engine: Engine
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # heartbeats are compared across processes
    sleep: Callable[[float], None] = time.sleep
    progress_interval: float = EDIT_INTERVAL_SECONDS
    # At most one new preview picture in the progress message this often.
    preview_interval: float = PREVIEW_INTERVAL_SECONDS
    # How long a heartbeat may stand still before its worker is taken for dead.
    lost_grace: float = LOST_JOB_GRACE_SECONDS
    # Told of every job this runner claims (the worker's accounting: start and queue-wait metrics).
    on_claim: Callable[[Job], None] | None = None
    # True once the process that runs the jobs is going away (local mode stops): a running job stops at its next
    # cancel check, and its user is told so.
    stopping: Callable[[], bool] = lambda: False

    def run(self, job: Job, seconds_left: float) -> JobStatus | Untouched:
        """Run `job` within `seconds_left`; the user hears back exactly once. Returns the final status."""
        started = self.clock()
        if job.enqueued_at is not None and self.wall() - job.enqueued_at > ASYNC_EVENT_MAX_AGE_SECONDS:
            # Lambda drops such an event; one delivered anyway is not run hours late: the user is told instead.
            return self.expire(job, only_from=(JobStatus.QUEUED,))
        if not self.store.set_job_status(job.user_id, job.job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,)):
            return self._not_claimed(job)
        self.store.beat(job.user_id, job.job_id, self.wall())
        logger.info("job claimed", extra={"job_id": job.job_id, "kind": job.kind})
        if self.on_claim is not None:
            self.on_claim(job)
        return self._work(job, deadline=started + seconds_left, started=started)

    def expire(self, job: Job, *, only_from: tuple[JobStatus, ...] = CANCELLABLE) -> JobStatus | Untouched:
        """The job waited past the async event age: fail it, tell the user why, and free them."""
        status = self.fail(job, "job_expired", only_from=only_from, minutes=ASYNC_EVENT_MAX_AGE_SECONDS // 60)
        if status == JobStatus.FAILED:
            emit(Metric.JOBS_EXPIRED, 1, dimensions={Dimension.KIND: quota_kind(job.kind, job.quality)})
        return status

    def _not_claimed(self, job: Job) -> JobStatus | Untouched:
        status = self.store.job_status(job.user_id, job.job_id)
        if status == JobStatus.RUNNING:
            # A delivery of a job some earlier attempt claimed: that attempt died mid-job (its idempotency
            # record expired, so it is not still running). Tell the user once.
            logger.warning("job found running by a dead attempt", extra={"job_id": job.job_id})
            self.fail(job, "job_failed", only_from=(JobStatus.RUNNING,))
            return JobStatus.FAILED
        logger.info("job not claimed", extra={"job_id": job.job_id, "status": status})
        return status or Untouched.GONE

    def _work(self, job: Job, deadline: float, started: float) -> JobStatus | Untouched:
        if job.preview:
            return self._preview(job)
        preset_name = self.engine.preset_name(job.preset, job.language) if job.preset else ""
        progress = self._progress_message(job, preset_name)
        checks = _CancelCheck(self.store, job, self.clock, deadline, self.wall, self.stopping)
        try:
            content = self.messenger.download(job.content_file_id)
            style = self.messenger.download(job.style_file_id) if job.style_file_id else None
            mix = self.messenger.download(job.mix_style_file_id) if job.mix_style_file_id else None
            result, filename = self.engine.run(job, content, style, progress.report, checks, mix)
        except Stopped:
            if checks.timed_out:
                return self.fail(job, "job_failed_timeout", progress=progress)
            if checks.stopping:
                return self.fail(job, "job_stopped", progress=progress)
            progress.close(text("job_cancelled", job.language))
            return JobStatus.CANCELLED
        except BadPicture as bad:
            reason = text(f"reason_{bad.reason}", job.language, **bad.values)
            key = {"photo": "job_failed_photo", "style": "job_failed_style"}.get(bad.picture or "", "job_failed_image")
            return self.fail(job, key, progress=progress, reason=reason)
        except Exception:
            logger.exception("job failed", extra={"job_id": job.job_id})
            return self.fail(job, "job_failed", progress=progress)
        return self._deliver(job, result, filename, progress, preset_name, started)

    def _preview(self, job: Job) -> JobStatus | Untouched:
        """The preview strip: no progress (it takes about a second), the picture with one button a strength."""
        try:
            content = self.messenger.download(job.content_file_id)
            style = self.messenger.download(job.style_file_id) if job.style_file_id else None
            mix = self.messenger.download(job.mix_style_file_id) if job.mix_style_file_id else None
            strip = self.engine.preview(job, content, style, mix)
        except Exception:
            logger.exception("the preview failed", extra={"job_id": job.job_id})
            return self.fail(job, "preview_failed")
        if not self.store.set_job_status(job.user_id, job.job_id, JobStatus.SENDING, only_from=(JobStatus.RUNNING,)):
            return self.store.job_status(job.user_id, job.job_id) or Untouched.GONE
        try:
            self.messenger.send_picture(
                job.chat_id,
                strip,
                as_file=False,
                filename=f"stylebot-preview-{job.job_id}.jpg",
                caption=text("preview_caption", job.language),
                keyboard=strip_keyboard(job.language, job.job_id),
                reply_to=job.content_message_id,
            )
        except MaybeSent:
            logger.warning("the preview got no answer in time; taken as delivered", extra={"job_id": job.job_id})
        except Exception:
            logger.exception("the preview could not be sent", extra={"job_id": job.job_id})
            return self.fail(job, "preview_failed", only_from=(JobStatus.SENDING,))
        self.store.set_job_status(job.user_id, job.job_id, JobStatus.DONE, only_from=(JobStatus.SENDING,))
        return JobStatus.DONE

    def _progress_message(self, job: Job, preset_name: str) -> ProgressMessage:
        message_id = job.progress_message_id
        if message_id is None:
            message_id = self.messenger.send_text(job.chat_id, text("progress_starting", job.language))
        return ProgressMessage(
            self.messenger, self.store, job, message_id, clock=self.clock, preset_name=preset_name,
            interval=self.progress_interval, preview_interval=self.preview_interval,
        )  # fmt: skip

    def _deliver(
        self, job: Job, result: bytes, filename: str, progress: ProgressMessage, preset_name: str, started: float
    ) -> JobStatus | Untouched:
        # From SENDING on, a cancel is too late; a job cancelled before this point never sends its result.
        if not self.store.set_job_status(job.user_id, job.job_id, JobStatus.SENDING, only_from=(JobStatus.RUNNING,)):
            progress.close(text("job_cancelled", job.language))
            return JobStatus.CANCELLED
        generation = free_user(self.store, job.user_id, job.job_id)
        paintings = [p for p in (job.painting, job.mix_painting) if p]
        titles = {p: self.engine.painting_title(p, job.language) for p in paintings}
        details = result_details(job, preset_name, pixel_size(result), titles)
        # One summary: the progress message becomes the line of what was made (a progress photo makes way for it).
        # The picture's caption does not repeat it: it names the style only (what stays with the picture when it
        # is forwarded): a preset, a painting, the user's own style, a mix.
        seconds = max(1, round(self.clock() - started))
        progress.close(text("result_summary", job.language, seconds=seconds, details=details), keep_picture=False)
        try:
            self.messenger.chat_action(job.chat_id, UPLOAD_FILE if job.as_file else UPLOAD_PHOTO)
            self.messenger.send_picture(
                job.chat_id,
                result,
                as_file=job.as_file,
                filename=filename,
                caption=result_caption(job, preset_name, titles),
                keyboard=result_keyboard(job.language, job.job_id) if generation is not None else None,
                generation=generation or 0,
                reply_to=job.content_message_id,
            )
        except MaybeSent:
            # Telegram got the picture but did not say so in time: it most likely arrived. Sending it again could
            # show it twice, and an apology would contradict it, so the job counts as done.
            logger.warning("the result got no answer in time; taken as delivered", extra={"job_id": job.job_id})
        except Exception:
            # Not delivered (Telegram kept refusing it, or the chat is gone): say so instead of a bare "Done!".
            logger.exception("the result could not be sent", extra={"job_id": job.job_id})
            return self.fail(job, "job_failed", progress=progress, only_from=(JobStatus.SENDING,))
        self.store.set_job_status(job.user_id, job.job_id, JobStatus.DONE, only_from=(JobStatus.SENDING,))
        logger.info("job done", extra={"job_id": job.job_id})
        return JobStatus.DONE

    def fail(
        self,
        job: Job,
        key: str,
        *,
        progress: ProgressMessage | None = None,
        only_from: tuple[JobStatus, ...] = (JobStatus.RUNNING,),
        **values: object,
    ) -> JobStatus | Untouched:
        """Mark the job FAILED, free the user and tell them, once: only the caller whose write lands speaks."""
        if not self.store.set_job_status(job.user_id, job.job_id, JobStatus.FAILED, only_from=only_from):
            return self.store.job_status(job.user_id, job.job_id) or Untouched.GONE
        if not job.preview:  # a preview never made the user busy, and its options screen stays current
            free_user(self.store, job.user_id, job.job_id)
        message = text(key, job.language, **values)
        # The job's message as the job item has it now: a best job's progress may have moved to a photo.
        stored = self.store.load_job(job.user_id, job.job_id) if progress is None else None
        message_id = stored.progress_message_id if stored is not None else job.progress_message_id
        if progress is not None:
            progress.close(message)
        elif message_id is not None:
            try:
                show_final(self.messenger, job.chat_id, message_id, message)
            except TelegramFailed as error:  # as a progress message's last edit: best effort
                logger.warning("the failure could not be shown", extra={"job_id": job.job_id, "reason": str(error)})
        else:
            self.messenger.send_text(job.chat_id, message)
        logger.info("job failed", extra={"job_id": job.job_id, "reason": key})
        return JobStatus.FAILED

    def stop(self, job: Job) -> JobStatus | Untouched:
        """A job no worker took, dropped because local mode stops: fail it and tell the user, once (a job a worker
        took is stopped by that worker, through `stopping`)."""
        return self.fail(job, "job_stopped", only_from=(JobStatus.QUEUED,))

    def fail_lost(self, job: Job, error_type: str | None = None, *, expired: bool = False) -> JobStatus | Untouched:
        """An invocation of the job failed for good: tell the user (once) unless the job is in fact alive.

        A duplicate delivery fails with IN_PROGRESS_ERROR while the first delivery still runs the job; a worker
        that was killed leaves the same record behind. The difference is the job's heartbeat: it moves while
        its worker lives.
        """
        if error_type == IN_PROGRESS_ERROR and self._alive(job):
            logger.info(
                "a duplicate delivery failed while the job runs on; nothing to do", extra={"job_id": job.job_id}
            )
            return Untouched.ALIVE
        if expired:
            return self.expire(job)
        return self.fail(job, "job_failed", only_from=CANCELLABLE)

    def _alive(self, job: Job) -> bool:
        """Watch the job for up to `lost_grace` seconds: alive if it beats or ends by itself."""
        first = self.store.last_beat(job.user_id, job.job_id)
        deadline = self.wall() + self.lost_grace
        while self.wall() < deadline:
            if self.store.job_status(job.user_id, job.job_id) not in CANCELLABLE:
                return True  # it ended (or was erased) without us
            beat = self.store.last_beat(job.user_id, job.job_id)
            if beat is not None and beat != first:
                return True
            self.sleep(1.0)
        return False


class _CancelCheck:
    """`should_cancel` for the engine: the job was cancelled (or erased), the time budget ran out, or the process
    is going away."""

    def __init__(
        self,
        store: StateStore,
        job: Job,
        clock: Callable[[], float],
        deadline: float,
        wall: Callable[[], float],
        stopping: Callable[[], bool],
    ) -> None:
        self._store = store
        self._job = job
        self._clock = clock
        self._deadline = deadline
        self._wall = wall
        self._stopping = stopping
        self._next_read = 0.0
        self._next_beat = 0.0
        self.timed_out = False
        self.cancelled = False
        self.stopping = False

    def __call__(self) -> bool:
        now = self._clock()
        if now >= self._deadline:
            self.timed_out = True
            return True
        if self._stopping():
            self.stopping = True
            return True
        if now >= self._next_beat:
            self._next_beat = now + BEAT_INTERVAL
            self._store.beat(self._job.user_id, self._job.job_id, self._wall())
        if now >= self._next_read:
            self._next_read = now + CANCEL_CHECK_INTERVAL
            status = self._store.job_status(self._job.user_id, self._job.job_id)
            self.cancelled = status != JobStatus.RUNNING
        return self.cancelled


class NoEngine:
    """The engine of the functions that run no models (the failure destination, local mode's bot process)."""

    def run(self, *args: Any, **kwargs: Any) -> tuple[bytes, str]:
        raise RuntimeError("this function runs no models")

    def preview(self, *args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("this function runs no models")

    def preset_name(self, preset_id: str, language: str) -> str:
        return preset_id

    def painting_title(self, painting_id: str, language: str) -> str:
        return painting_id
