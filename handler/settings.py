"""Typed settings, read once from the environment."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from handler.core.ports import CLAIM_STALE_SECONDS


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
    lost_job_grace_seconds: float = 45.0
    # Local mode: the embedded store, and how many jobs run at once (the pool's size).
    local_state_path: Path = Path(".local-state/stylebot.sqlite3")
    local_workers: int = 1
    # Telegram gives up redelivering an update after 24 hours; claims live a little longer.
    update_claim_ttl_seconds: int = 26 * 3600
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


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
