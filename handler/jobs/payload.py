"""The worker's event: a job's ids and options, validated before anything else happens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from handler.core.state import SIZES, JobSpec


class JobPayload(BaseModel):
    """What the webhook's asynchronous invocation carries (never image bytes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str = Field(pattern=r"^[a-z0-9]{8,40}$")
    user_id: int = Field(gt=0)
    chat_id: int
    kind: Literal["nst", "preset"]
    content_file_id: str = Field(min_length=1, max_length=256)
    style_file_id: str | None = Field(default=None, max_length=256)
    preset: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,40}$")
    quality: Literal["quick", "best"]
    size: int
    strength: float = Field(ge=0.0, le=1.0)
    keep_colors: bool
    as_file: bool
    language: Literal["en", "ru"]
    progress_message_id: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> JobPayload:
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}")
        if self.kind == "nst" and not self.style_file_id:
            raise ValueError("an own-style job needs a style picture")
        if self.kind == "preset" and not self.preset:
            raise ValueError("a preset job needs a preset")
        return self

    def spec(self) -> JobSpec:
        return JobSpec(**self.model_dump())
