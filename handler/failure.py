"""Lambda entry point of the worker's on-failure destination: a job whose worker died outright."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.jobs.invocation import notify_lost_job
from handler.observability import logger
from handler.wiring import failure as wiring

wiring.settings()  # a missing variable fails the function's start, by name


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """Tell the user their job failed (unless the worker already did) and free their state."""
    return notify_lost_job(wiring.runner(), event)
