"""In-memory fakes of the core's ports, for the fast unit tests of the core and the job pipeline.

The store fake passes the same contract as the DynamoDB and SQLite adapters (tests/unit/test_state_store_contract.py),
so what a unit test proves on it holds on them. The others record what they were asked to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handler.core.job import ClaimState, Job, JobStatus
from handler.core.keyboards import Keyboard
from handler.core.limits import CLAIM_STALE_SECONDS
from handler.core.pace import RECENT_PACES
from handler.core.ports import ActiveJob, PositionLease, ProgressReport, RateLimited, Stopped, UpdateInProgress
from handler.core.quotas import QuotaKind
from handler.core.state import UserState
from handler.core.stats import DaySummary, JobRecord


class MemoryStore:
    """The StateStore port in a dict, with the same conditional writes as the real adapters."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.states: dict[int, tuple[int, str]] = {}  # user -> (version, body)
        self.jobs: dict[tuple[int, str], dict[str, Any]] = {}  # (user, job) -> {"status", "job", "beat_at"}
        self.claims: dict[int, tuple[ClaimState, float]] = {}

    def claim_update(self, update_id: int, *, stale_after: float = CLAIM_STALE_SECONDS) -> bool:
        with self._lock:
            now = self._clock()
            found = self.claims.get(update_id)
            if found is None or (found[0] == ClaimState.PROCESSING and found[1] < now - stale_after):
                self.claims[update_id] = (ClaimState.PROCESSING, now)
                return True
            if found[0] == ClaimState.PROCESSING:
                raise UpdateInProgress(str(update_id))
            return False

    def finish_update(self, update_id: int) -> None:
        with self._lock:
            self.claims[update_id] = (ClaimState.DONE, self.claims.get(update_id, (None, 0.0))[1])

    def release_update(self, update_id: int) -> None:
        with self._lock:
            self.claims.pop(update_id, None)

    def load(self, user_id: int) -> UserState:
        with self._lock:
            found = self.states.get(user_id)
        return UserState(user_id=user_id) if found is None else UserState.from_body(user_id, *found)

    def save(self, state: UserState) -> UserState | None:
        with self._lock:
            stored = self.states.get(state.user_id, (0, ""))[0]
            if stored != state.version:
                return None
            self.states[state.user_id] = (state.version + 1, state.to_body())
        return state.with_(version=state.version + 1)

    def put_job(self, job: Job, status: JobStatus) -> None:
        with self._lock:
            self.jobs[(job.user_id, job.job_id)] = {"status": status, "job": job.to_json(), "beat_at": None}

    def job_status(self, user_id: int, job_id: str) -> JobStatus | None:
        with self._lock:
            item = self.jobs.get((user_id, job_id))
        return None if item is None else JobStatus(item["status"])

    def load_job(self, user_id: int, job_id: str) -> Job | None:
        with self._lock:
            item = self.jobs.get((user_id, job_id))
        return None if item is None else Job.model_validate_json(str(item["job"]))

    def move_progress(self, user_id: int, job_id: str, message_id: int) -> None:
        with self._lock:
            item = self.jobs.get((user_id, job_id))
            if item is not None:
                moved = Job.model_validate_json(str(item["job"])).model_copy(update={"progress_message_id": message_id})
                item["job"] = moved.to_json()

    def beat(self, user_id: int, job_id: str, at: float) -> None:
        with self._lock:
            if (user_id, job_id) in self.jobs:
                self.jobs[(user_id, job_id)]["beat_at"] = at

    def last_beat(self, user_id: int, job_id: str) -> float | None:
        with self._lock:
            item = self.jobs.get((user_id, job_id))
        return None if item is None else item["beat_at"]

    def set_job_status(self, user_id: int, job_id: str, status: JobStatus, *, only_from: tuple[JobStatus, ...]) -> bool:
        with self._lock:
            item = self.jobs.get((user_id, job_id))
            if item is None or item["status"] not in only_from:
                return False
            item["status"] = status
            return True

    def forget(self, user_id: int) -> int:
        with self._lock:
            jobs = [key for key in self.jobs if key[0] == user_id]
            for key in jobs:
                del self.jobs[key]
            return len(jobs) + (self.states.pop(user_id, None) is not None)


@dataclass
class Sent:
    """One thing the messenger was asked to show: a new message, an edit, or a picture."""

    # "text", "edit", "picture"; a progress photo's "preview", "media" (its picture swapped) and "caption"; "delete"
    kind: str
    chat_id: int
    text: str
    message_id: int
    keyboard: Keyboard | None = None
    generation: int = 0
    as_file: bool = False
    reply_to: int | None = None
    data: bytes = b""


@dataclass
class FakeMessenger:
    """The Messenger port: serves files by id and records what was sent; failures are queued by the test.

    Like Telegram, it refuses (False) a text edit of a photo message, a caption or picture edit of a text
    message (any id it did not send as a photo is text), and any edit of a deleted message."""

    files: dict[str, bytes] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    rate_limit_edits: list[float] = field(default_factory=list)  # the next edits answer 429 with these waits
    picture_error: Exception | None = None
    preview_error: Exception | None = None  # what the next send_preview raises
    photos: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    _next_id: int = 100

    def download(self, file_id: str) -> bytes:
        return self.files[file_id]

    def _editable(self, message_id: int, *, photo: bool) -> bool:
        if self.rate_limit_edits:
            raise RateLimited(self.rate_limit_edits.pop(0))
        return message_id not in self.deleted and (message_id in self.photos) == photo

    def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        if not self._editable(message_id, photo=False):
            return False
        self.sent.append(Sent("edit", chat_id, text, message_id, keyboard, generation))
        return True

    def send_preview(
        self, chat_id: int, jpeg: bytes, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> int:
        if self.preview_error is not None:
            error, self.preview_error = self.preview_error, None
            raise error
        self._next_id += 1
        self.photos.add(self._next_id)
        self.sent.append(Sent("preview", chat_id, caption, self._next_id, keyboard, generation, data=jpeg))
        return self._next_id

    def edit_preview(
        self,
        chat_id: int,
        message_id: int,
        jpeg: bytes,
        caption: str,
        keyboard: Keyboard | None = None,
        generation: int = 0,
    ) -> bool:
        if not self._editable(message_id, photo=True):
            return False
        self.sent.append(Sent("media", chat_id, caption, message_id, keyboard, generation, data=jpeg))
        return True

    def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        if not self._editable(message_id, photo=True):
            return False
        self.sent.append(Sent("caption", chat_id, caption, message_id, keyboard, generation))
        return True

    def delete_message(self, chat_id: int, message_id: int) -> bool:
        if message_id in self.deleted:
            return False
        self.deleted.add(message_id)
        self.sent.append(Sent("delete", chat_id, "", message_id))
        return True

    def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int:
        self._next_id += 1
        self.sent.append(Sent("text", chat_id, text, self._next_id, keyboard, generation))
        return self._next_id

    def chat_action(self, chat_id: int, action: str) -> None:
        self.sent.append(Sent("action", chat_id, action, 0))

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
    ) -> None:
        if self.picture_error is not None:
            raise self.picture_error
        self._next_id += 1
        self.sent.append(Sent("picture", chat_id, caption, self._next_id, keyboard, generation, as_file, reply_to))

    def of_kind(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind]


class ManualClock:
    """Time that moves only when told (or by `sleep`): the runner's clock, wall and sleep at once."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ScriptedEngine:
    """The Engine port: reports progress at the given fractions (each step taking `step_seconds` on the clock),
    asking `should_cancel` before each, then returns a result or raises what the test chose."""

    clock: ManualClock
    fractions: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    step_seconds: float = 1.0
    error: Exception | None = None
    on_step: Callable[[int], None] | None = None  # a hook run at each step (e.g. a cancel from the user)
    previews: dict[int, bytes] = field(default_factory=dict)  # step -> the preview reported with it
    runs: list[Job] = field(default_factory=list)
    mixes: list[bytes | None] = field(default_factory=list)  # the second style picture of each run

    def run(
        self,
        job: Job,
        content: bytes,
        style: bytes | None,
        progress: ProgressReport,
        should_cancel: Callable[[], bool],
        mix: bytes | None = None,
    ) -> tuple[bytes, str]:
        self.runs.append(job)
        self.mixes.append(mix)
        for step, fraction in enumerate(self.fractions):
            if self.on_step is not None:
                self.on_step(step)
            if should_cancel():
                raise Stopped()
            self.clock.sleep(self.step_seconds)
            progress(fraction, self.step_seconds * (len(self.fractions) - step - 1), self.previews.get(step))
        if self.error is not None:
            raise self.error
        return b"result:" + content, f"stylebot-{job.job_id}.jpg"

    def preview(self, job: Job, content: bytes, style: bytes | None, mix: bytes | None = None) -> bytes:
        self.runs.append(job)
        if self.error is not None:
            raise self.error
        return b"strip:" + content

    def preset_name(self, preset_id: str, language: str) -> str:
        return f"{preset_id}-{language}"

    def painting_title(self, painting_id: str, language: str) -> str:
        return f"{painting_id}-{language}"


@dataclass
class FakeDispatcher:
    """The JobDispatcher port: records jobs, or refuses them like a throttled Lambda Invoke."""

    jobs: list[Job] = field(default_factory=list)
    refuse: bool = False

    def dispatch(self, job: Job) -> None:
        if self.refuse:
            raise RuntimeError("the worker was not queued (status 429)")
        self.jobs.append(job)


class MemoryUsage:
    """The Usage port in dicts (with the adapters' atomic semantics, under a lock), and the JobQueue port over a
    MemoryStore's job items."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store
        self.quotas: dict[tuple[str, int], dict[QuotaKind, int]] = {}
        self.refusals: dict[str, dict[QuotaKind, int]] = {}
        self.seconds: dict[str, float] = {}
        self.gb_seconds: dict[str, float] = {}
        self.records: dict[str, list[JobRecord]] = {}
        self.positions: dict[str, dict[str, Any]] = {}  # job -> wanted, shown, holder, until
        self.paces: dict[str, list[tuple[float, float]]] = {}  # key -> (at, pace), in the order recorded

    def todays_counts(self, user_id: int, day: str) -> tuple[dict[QuotaKind, int], float]:
        with self._lock:
            used = dict(self.quotas.get((day, user_id), {}))
            return {k: used.get(k, 0) for k in QuotaKind}, self.seconds.get(day, 0.0)

    def take_quota(self, user_id: int, day: str, kind: QuotaKind, limit: int | None) -> bool:
        with self._lock:
            counts = self.quotas.setdefault((day, user_id), {})
            if limit is not None and counts.get(kind, 0) >= limit:
                return False
            counts[kind] = counts.get(kind, 0) + 1
            return True

    def count_refusal(self, day: str, kind: QuotaKind) -> None:
        with self._lock:
            counts = self.refusals.setdefault(day, {})
            counts[kind] = counts.get(kind, 0) + 1

    def add_worker_seconds(self, day: str, seconds: float, gb_seconds: float) -> float:
        with self._lock:
            self.seconds[day] = self.seconds.get(day, 0.0) + seconds
            self.gb_seconds[day] = self.gb_seconds.get(day, 0.0) + gb_seconds
            return self.seconds[day]

    def record_job(self, day: str, record: JobRecord) -> None:
        with self._lock:
            self.records.setdefault(day, []).append(record)

    def day_summary(self, day: str) -> DaySummary:
        with self._lock:
            return DaySummary(
                day,
                tuple(self.records.get(day, [])),
                dict(self.refusals.get(day, {})),
                self.seconds.get(day, 0.0),
                self.gb_seconds.get(day, 0.0),
            )

    def recent_paces(self, key: str) -> list[float]:
        with self._lock:
            entries = list(enumerate(self.paces.get(key, [])))  # ties: the later recorded first
            newest = sorted(entries, key=lambda entry: (entry[1][0], entry[0]), reverse=True)
            return [pace for _, (_, pace) in newest[:RECENT_PACES]]

    def add_pace(self, key: str, pace: float, at: float) -> None:
        with self._lock:
            self.paces.setdefault(key, []).append((at, pace))

    def _queued(self, user_id: int, job_id: str) -> bool:
        assert self._store is not None
        item = self._store.jobs.get((user_id, job_id))
        return item is not None and item["status"] == JobStatus.QUEUED

    def want_position(self, user_id: int, job_id: str, ahead: int) -> bool:
        with self._lock:
            position = self.positions.get(job_id, {})
            if not self._queued(user_id, job_id) or position.get("wanted", ahead + 1) <= ahead:
                return False
            self.positions[job_id] = position | {"wanted": ahead}
            return True

    def take_refresh(self, user_id: int, job_id: str, holder: str, *, now: float, until: float) -> PositionLease | None:
        with self._lock:
            position = self.positions.get(job_id)
            if position is None or not self._queued(user_id, job_id) or position.get("until", now - 1) >= now:
                return None  # nothing wanted, the job left the queue, or someone holds the lease
            position.update(holder=holder, until=until)
            return PositionLease(position["wanted"], position.get("shown"))

    def end_refresh(self, user_id: int, job_id: str, holder: str, shown: int, *, until: float) -> PositionLease | None:
        with self._lock:
            position = self.positions.get(job_id)
            if position is None or position.get("holder") != holder:
                return None
            position["shown"] = shown
            if position["wanted"] == shown or not self._queued(user_id, job_id):
                del position["holder"], position["until"]
                return None
            position["until"] = until
            return PositionLease(position["wanted"], shown)

    def release_refresh(self, user_id: int, job_id: str, holder: str) -> None:
        with self._lock:
            position = self.positions.get(job_id)
            if position is not None and position.get("holder") == holder:
                del position["holder"], position["until"]

    def active_jobs(self, since: float) -> list[ActiveJob]:
        assert self._store is not None
        found = []
        for item in list(self._store.jobs.values()):
            job = Job.model_validate_json(item["job"])
            if item["status"] in (JobStatus.QUEUED, JobStatus.RUNNING) and (job.enqueued_at or 0) >= since:
                found.append(ActiveJob(job, JobStatus(item["status"]), job.enqueued_at or 0.0))
        return sorted(found, key=lambda a: (a.enqueued_at, a.job.job_id))
