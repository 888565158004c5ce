"""Lambda entry point of the worker (the same image as the webhook, its own `ImageConfig.Command`).

The job pipeline (stylize, progress, cancel, send the result) lands with the job issue; until then the worker
accepts an invocation, logs that it has nothing to do, and returns without touching Telegram or the state.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="stylebot")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Placeholder until the job pipeline exists: acknowledge the job and do nothing else."""
    logger.warning("the job pipeline is not deployed yet; job ignored", extra={"job_keys": sorted(event)})
    return {"status": "ignored"}
