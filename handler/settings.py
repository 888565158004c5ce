"""Typed settings, read once from the environment and checked when a function starts."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from handler.core.limits import CLAIM_STALE_SECONDS, LOST_JOB_GRACE_SECONDS, UPDATE_CLAIM_TTL_SECONDS
from handler.core.quotas import (
    DEFAULT_BEST_PER_DAY,
    DEFAULT_DAILY_BUDGET_SECONDS,
    DEFAULT_PRESET_PER_DAY,
    DEFAULT_PRICE_PER_GB_SECOND,
    DEFAULT_QUICK_PER_DAY,
    Limits,
    QuotaKind,
)

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
    # The function's own name, set by Lambda's runtime: the webhook invokes itself for an album's wakeup.
    aws_lambda_function_name: str | None = None
    # The worker's Powertools Idempotency table (one record per job id).
    idempotency_table: str | None = None
    # The failure notifier's wait for a heartbeat before it takes a job's worker for dead.
    lost_job_grace_seconds: float = LOST_JOB_GRACE_SECONDS
    # Local mode: the embedded store, and how many jobs run at once (the pool's size).
    local_state_path: Path = Path(".local-state/stylebot.sqlite3")
    local_workers: int = 1
    # Local mode: download the weights it would offer but lacks before the bot starts (0/false: don't).
    stylebot_fetch_weights: bool = True
    update_claim_ttl_seconds: int = UPDATE_CLAIM_TTL_SECONDS
    # A claim left "processing" this long was made by a delivery that died; the next one takes it over.
    update_claim_stale_seconds: float = CLAIM_STALE_SECONDS
    # How long cached SSM parameters stay fresh in a warm container.
    parameter_max_age_seconds: int = 300
    # The operator's caps: jobs per user and UTC day by kind (0: no limit), administrators (Telegram user ids,
    # comma-separated: exempt from the quotas, and the only users /stats answers), and the day's budget of
    # worker-seconds (0: none).
    quota_quick_per_day: int = Field(default=DEFAULT_QUICK_PER_DAY, ge=0)
    quota_best_per_day: int = Field(default=DEFAULT_BEST_PER_DAY, ge=0)
    quota_preset_per_day: int = Field(default=DEFAULT_PRESET_PER_DAY, ge=0)
    admin_user_ids: str = ""
    daily_budget_worker_seconds: float = Field(default=DEFAULT_DAILY_BUDGET_SECONDS, ge=0)
    # The worker's reserved concurrency: a job with this many ahead of it waits (0: no cap, nobody waits).
    worker_concurrency: int = Field(default=0, ge=0)
    # The region's Lambda price, for /stats' estimated cost.
    lambda_price_per_gb_second: float = Field(default=DEFAULT_PRICE_PER_GB_SECOND, ge=0)

    @field_validator("admin_user_ids")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not part.isdigit():
                raise ValueError(f"ADMIN_USER_IDS: {part!r} is not a Telegram user id (digits, comma-separated)")
        return value

    @property
    def operator_limits(self) -> Limits:
        admins = frozenset(int(p) for p in self.admin_user_ids.split(",") if p.strip())
        per_day = {
            QuotaKind.QUICK: self.quota_quick_per_day,
            QuotaKind.BEST: self.quota_best_per_day,
            QuotaKind.PRESET: self.quota_preset_per_day,
        }
        return Limits(per_day=per_day, budget_seconds=self.daily_budget_worker_seconds, admins=admins)

    @property
    def bot_api_url(self) -> str:
        return self.telegram_api_base_url.rstrip("/") + "/bot"

    @property
    def bot_file_url(self) -> str:
        return self.telegram_api_base_url.rstrip("/") + "/file/bot"


def _secret_configured(parameter: str | None, info: ValidationInfo, inline: str) -> str | None:
    """`parameter` (the SSM name, Lambda) unless the secret is set inline in `inline` (local mode); missing if
    neither is, so that the function fails when it starts rather than at its first invocation."""
    value = info.data.get(inline)
    if not parameter and (value is None or not value.get_secret_value()):
        raise PydanticCustomError("missing", "set the parameter name, or the secret inline")
    return parameter


class TelegramSettings(Settings):
    """The settings of a function that talks to Telegram: the bot token, inline or as an SSM parameter name."""

    telegram_bot_token_parameter: str | None = Field(default=None, validate_default=True)

    @field_validator("telegram_bot_token_parameter")
    @classmethod
    def _bot_token(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _secret_configured(value, info, "telegram_bot_token")


class WebhookSettings(TelegramSettings):
    """The webhook function's settings: its table, the worker it hands jobs to, and the webhook's secret."""

    state_table: Required
    worker_function_name: Required
    telegram_webhook_secret_parameter: str | None = Field(default=None, validate_default=True)

    @field_validator("telegram_webhook_secret_parameter")
    @classmethod
    def _webhook_secret(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _secret_configured(value, info, "telegram_webhook_secret")


class WorkerSettings(TelegramSettings):
    """The worker function's settings: its table and the idempotency table of its jobs."""

    state_table: Required
    idempotency_table: Required


class FailureSettings(TelegramSettings):
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
