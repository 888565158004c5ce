"""Typed settings, read once from the environment and checked when a function starts."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from handler.core.limits import CLAIM_STALE_SECONDS, LOST_JOB_GRACE_SECONDS, UPDATE_CLAIM_TTL_SECONDS

# A required variable set to nothing counts as missing.
Required = Annotated[str, Field(min_length=1)]


class MissingSetting(RuntimeError):
    """A variable a function cannot run without is not set; the message names it."""


class Settings(BaseSettings):
    """Every setting the bot reads. Secrets come either inline or as the name of an SSM SecureString."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = None
    telegram_bot_token_parameter: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_secret_parameter: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    # DynamoDB table of per-user state and update claims (Lambda). Unset in local mode.
    state_table: str | None = None
    # The worker function that runs style jobs (asynchronous invocation).
    worker_function_name: str | None = None
    # The worker's Powertools Idempotency table (one record per job id).
    idempotency_table: str | None = None
    # The failure notifier's wait for a heartbeat before it takes a job's worker for dead.
    lost_job_grace_seconds: float = LOST_JOB_GRACE_SECONDS
    # Local mode: the embedded store, and how many jobs run at once (the pool's size).
    local_state_path: Path = Path(".local-state/stylebot.sqlite3")
    local_workers: int = 1
    update_claim_ttl_seconds: int = UPDATE_CLAIM_TTL_SECONDS
    # A claim left "processing" this long was made by a delivery that died; the next one takes it over.
    update_claim_stale_seconds: float = CLAIM_STALE_SECONDS
    # How long cached SSM parameters stay fresh in a warm container.
    parameter_max_age_seconds: int = 300

    @property
    def bot_api_url(self) -> str:
        return self.telegram_api_base_url.rstrip("/") + "/bot"

    @property
    def bot_file_url(self) -> str:
        return self.telegram_api_base_url.rstrip("/") + "/file/bot"


class WebhookSettings(Settings):
    """The webhook function's settings: its table and the worker it hands jobs to."""

    state_table: Required
    worker_function_name: Required


class WorkerSettings(Settings):
    """The worker function's settings: its table and the idempotency table of its jobs."""

    state_table: Required
    idempotency_table: Required


class FailureSettings(Settings):
    """The failure destination's settings: the table of the jobs it fails."""

    state_table: Required


S = TypeVar("S", bound=Settings)


def load_settings(kind: type[S], function: str) -> S:
    """The settings of `function`, read from the environment now; a missing variable is named in one error."""
    try:
        return kind()
    except ValidationError as error:
        missing = sorted(
            str(e["loc"][0]).upper() for e in error.errors() if e["type"] in ("missing", "string_too_short")
        )
        if missing:
            raise MissingSetting(
                f"{function} cannot start: set the environment variable {', '.join(missing)}"
            ) from None
        raise


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
