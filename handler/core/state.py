"""Per-user state: where the user is in the conversation, what they chose, and the bookkeeping around it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from handler.core.limits import JOB_STALE_SECONDS

SIZES = (256, 512, 1024)
DEFAULT_SIZE = 512
STRENGTHS = {"low": 0.5, "mid": 0.8, "high": 1.0}
QUALITIES = ("quick", "best")
LANGUAGES = ("en", "ru")


class JobStatus(StrEnum):
    QUEUED = "QUEUED"  # stored and handed to the worker
    RUNNING = "RUNNING"  # claimed by a worker
    SENDING = "SENDING"  # the result is being sent: too late to cancel
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


CANCELLABLE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class Step(StrEnum):
    IDLE = "idle"
    NST_CONTENT = "nst_content"  # own style: waiting for the photo to restyle
    NST_STYLE = "nst_style"  # own style: waiting for the style picture
    NST_OPTIONS = "nst_options"  # own style: options with Start / Cancel
    PRESET_PICK = "preset_pick"  # presets: the gallery is shown
    PRESET_PHOTO = "preset_photo"  # presets: waiting for the photo
    PRESET_OPTIONS = "preset_options"  # presets: strength with Start / Cancel


AWAITING_IMAGE = {Step.NST_CONTENT, Step.NST_STYLE, Step.PRESET_PHOTO}


@dataclass(frozen=True)
class Flow:
    """What the user has chosen so far in the current flow. Telegram file ids only, never images."""

    content_file_id: str | None = None
    style_file_id: str | None = None
    preset: str | None = None
    strength: str = "high"
    keep_colors: bool = False
    quality: str = "quick"
    size: int | None = None  # None: the user's default size from settings
    # An album holding content and style arrives as several updates: collected here by message id.
    album_id: str | None = None
    album: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UserState:
    """Everything stored about one user. `version` is the one read; a save must find it unchanged."""

    user_id: int
    version: int = 0  # 0: nothing stored yet
    step: Step = Step.IDLE
    generation: int = 0  # of the newest inline keyboard; older keyboards are stale
    language: str | None = None  # chosen in settings; None: from Telegram's language_code
    size: int = DEFAULT_SIZE
    as_file: bool = False
    flow: Flow = field(default_factory=Flow)
    active_job: str | None = None
    job_started_at: float | None = None
    recent_jobs: tuple[str, ...] = ()  # so that /forget can find every job item
    # Token bucket against floods: tokens left and when they were counted.
    tokens: float = 20.0
    tokens_at: float = 0.0
    flood_warned_at: float = 0.0

    def job_is_running(self, now: float) -> bool:
        return self.active_job is not None and now - (self.job_started_at or 0) < JOB_STALE_SECONDS

    def to_body(self) -> str:
        data = asdict(self)
        del data["user_id"], data["version"]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_body(cls, user_id: int, version: int, body: str) -> UserState:
        data: dict[str, Any] = json.loads(body)
        flow = Flow(**data.pop("flow", {}))
        data["step"] = Step(data.get("step", Step.IDLE))
        data["recent_jobs"] = tuple(data.get("recent_jobs", ()))
        known = {f for f in cls.__dataclass_fields__ if f not in ("user_id", "version", "flow")}
        return cls(user_id=user_id, version=version, flow=flow, **{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> UserState:
        return replace(self, **changes)

    def valid(self) -> bool:
        """The invariants every stored state keeps (checked by the property-based tests)."""
        flow = self.flow
        checks = [
            self.size in SIZES,
            self.language in (None, *LANGUAGES),
            flow.strength in STRENGTHS,
            flow.quality in QUALITIES,
            flow.size in (None, *SIZES),
            self.step not in (Step.NST_STYLE, Step.NST_OPTIONS) or flow.content_file_id is not None,
            self.step != Step.NST_OPTIONS or flow.style_file_id is not None,
            self.step not in (Step.PRESET_PHOTO, Step.PRESET_OPTIONS) or flow.preset is not None,
            self.step != Step.PRESET_OPTIONS or flow.content_file_id is not None,
            (self.active_job is None) == (self.job_started_at is None),
            self.generation >= 0,
            len(flow.album) <= 2,
        ]
        return all(checks)


@dataclass(frozen=True)
class JobSpec:
    """A job handed to the worker: ids and options, never image bytes."""

    job_id: str
    user_id: int
    chat_id: int
    kind: str  # "nst" or "preset"
    content_file_id: str
    style_file_id: str | None
    preset: str | None
    quality: str
    size: int
    strength: float
    keep_colors: bool
    as_file: bool
    language: str
    progress_message_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> JobSpec:
        return cls(**{k: payload[k] for k in cls.__dataclass_fields__ if k in payload})
