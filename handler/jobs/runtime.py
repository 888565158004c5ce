"""Shared by the worker and the failure notifier: the job runner on DynamoDB and the Bot API, made once."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from handler import credentials
from handler.core.ports import Engine
from handler.core.state import JobSpec
from handler.jobs.payload import JobPayload
from handler.jobs.runner import JobRunner
from handler.settings import Settings, get_settings

logger = Logger(service="stylebot", child=True)


def make_runner(settings: Settings, engine: Engine | None) -> JobRunner:
    import boto3

    from handler.adapters.dynamodb import DynamoDBStore, client_config
    from handler.adapters.telegram_messenger import BotMessenger

    if not settings.state_table:
        raise RuntimeError("STATE_TABLE is not set")
    store = DynamoDBStore(
        boto3.client("dynamodb", config=client_config()),
        settings.state_table,
        claim_ttl_seconds=settings.update_claim_ttl_seconds,
    )
    messenger = BotMessenger(settings, credentials.bot_token(settings).get_secret_value())
    return JobRunner(store, messenger, engine or NoEngine(), lost_grace=settings.lost_job_grace_seconds)


class NoEngine:
    """The failure notifier runs no models (and never imports torch)."""

    def run(self, *args: Any, **kwargs: Any) -> tuple[bytes, str]:
        raise RuntimeError("this function runs no models")

    def preset_name(self, preset_id: str, language: str) -> str:
        return preset_id


@cache
def notifier_runner() -> JobRunner:
    return make_runner(get_settings(), None)


def notify_lost_job(record: dict[str, Any], metrics: Metrics) -> dict[str, str]:
    """An on-failure destination record of the worker: tell the user (once) and free them."""
    job = JobSpec.from_payload(JobPayload.model_validate(record["requestPayload"]).model_dump())
    logger.append_keys(job_id=job.job_id)
    logger.warning(
        "worker invocation failed for good",
        extra={"condition": record.get("requestContext", {}).get("condition"), "error": record.get("responsePayload")},
    )
    error_type = (record.get("responsePayload") or {}).get("errorType")
    status = notifier_runner().fail_lost(job, error_type)
    metrics.add_metric(name="JobsLost", unit=MetricUnit.Count, value=1)
    return {"job_id": job.job_id, "status": status}
