"""A style job: the one schema the webhook stores, sends to the worker and the failure destination reads back.

Ids and options only, never image bytes. Validated wherever it crosses a process boundary (the worker's event, a
job item read back, the failure destination's record), so a malformed job fails before any work starts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SIZES = (256, 512, 1024)
DEFAULT_SIZE = 512


class Kind(StrEnum):
    NST = "nst"  # own style: Gatys neural style transfer with the user's style picture
    PRESET = "preset"  # a pretrained generator


class Quality(StrEnum):
    QUICK = "quick"
    BEST = "best"


class Language(StrEnum):
    EN = "en"
    RU = "ru"


class Strength(StrEnum):
    """How strongly the style shows; the job carries the key, the engine turns it into a blend weight."""

    LOW = "low"
    MID = "mid"
    HIGH = "high"

    @property
    def weight(self) -> float:
        return _WEIGHTS[self]

    @classmethod
    def of_weight(cls, weight: float) -> Strength:
        """The key of a blend weight (the closest one)."""
        return min(cls, key=lambda s: abs(_WEIGHTS[s] - weight))


_WEIGHTS = {Strength.LOW: 0.5, Strength.MID: 0.8, Strength.HIGH: 1.0}


class MixRatio(StrEnum):
    """How two mixed styles share the result: the first style's percentage ("70": 70/30)."""

    FIRST = "70"
    EVEN = "50"
    SECOND = "30"

    @property
    def second_share(self) -> float:
        """The second style's share of the mix, in [0, 1]."""
        return 1.0 - int(self) / 100

    @property
    def label(self) -> str:
        return f"{self}/{100 - int(self)}"


class JobStatus(StrEnum):
    """The status of a job item in the state store."""

    QUEUED = "QUEUED"  # stored and handed to the worker
    RUNNING = "RUNNING"  # claimed by a worker
    SENDING = "SENDING"  # the result is being sent: too late to cancel
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


CANCELLABLE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class Untouched(StrEnum):
    """What a worker or the failure destination reports when it left a job as it was."""

    GONE = "GONE"  # no job item: erased by /forget
    ALIVE = "ALIVE"  # another delivery of the job is still running it


class ClaimState(StrEnum):
    """A claim of a Telegram update in the update ledger."""

    PROCESSING = "processing"
    DONE = "done"


class Job(BaseModel):
    """A job handed to the worker: ids and options, never image bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str = Field(pattern=r"^[a-z0-9]{8,40}$")
    user_id: int = Field(gt=0)
    chat_id: int
    kind: Kind
    content_file_id: str = Field(min_length=1, max_length=256)
    style_file_id: str | None = Field(default=None, max_length=256)
    painting: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,40}$")  # a famous painting as the style
    preset: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,40}$")
    # A second style mixed in (a picture of the user's or a painting), and how the two share the result.
    mix_style_file_id: str | None = Field(default=None, max_length=256)
    mix_painting: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,40}$")
    mix_ratio: MixRatio | None = None
    # A preview strip (the photo at each strength, small), not a result: quick own style only, no quota.
    preview: bool = False
    quality: Quality
    size: int
    strength: Strength
    keep_colors: bool
    as_file: bool
    language: Language
    progress_message_id: int | None = None
    # The user's message of the photo: the result is sent as a reply to it (None: a job of an older release).
    content_message_id: int | None = None
    # When the user tapped Start (seconds since the epoch): the job's place in the queue, and its queue wait.
    enqueued_at: float | None = None
    # The worker cap the stack applied (what the account allowed of the one asked for; 0: none), as the webhook
    # knows it: the worker counts queue positions against it. None in a job from a webhook that did not send it.
    worker_cap: int | None = Field(default=None, ge=0)

    @field_validator("strength", mode="before")
    @classmethod
    def _weight_of_an_older_release(cls, value: Any) -> Any:
        # Jobs queued by the release before this one carried the blend weight; they are read as its key.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Strength.of_weight(float(value))
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Job:
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}")
        if self.kind == Kind.NST and not self.style_file_id and not self.painting:
            raise ValueError("an own-style job needs a style picture or a painting")
        if self.style_file_id and self.painting:
            raise ValueError("a job has one style picture: the user's or a painting")
        if self.preview and (self.kind != Kind.NST or self.quality != Quality.QUICK):
            raise ValueError("a preview strip is made at quick quality, for an own-style job")
        mixes = (self.mix_style_file_id is not None) + (self.mix_painting is not None)
        if mixes > 1 or (mixes == 1) != (self.mix_ratio is not None) or (mixes and self.kind != Kind.NST):
            raise ValueError("a mix is one more style for an own-style job, with its ratio")
        if self.kind == Kind.PRESET and not self.preset:
            raise ValueError("a preset job needs a preset")
        return self

    def to_json(self) -> str:
        """The job as it is stored and sent (the worker's event, a job item's `spec`)."""
        return self.model_dump_json()
