"""Lambda entry point of the worker's on-failure destination (same image, its own `ImageConfig.Command`).

Lambda calls it with a destination record once a job has failed for good (every retry spent, or the event grew
too old). Telling the user and marking the job failed land with the job issue; until then it logs the failure
(the record's context only: the job payload holds Telegram file references, which stay out of the logs).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="stylebot")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Placeholder until the job pipeline exists: record that a job failed for good."""
    request = event.get("requestContext") or {}
    logger.error(
        "job failed for good",
        extra={
            "condition": request.get("condition"),
            "invoke_count": request.get("approximateInvokeCount"),
            "request_id": request.get("requestId"),
        },
    )
