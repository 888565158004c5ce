"""Lambda entry point of the Telegram webhook (behind API Gateway). Never imports torch.

Tracing comes from the function's `Tracing: Active` (Lambda's own segments); the X-Ray SDK behind Powertools
Tracer would add about a third of a second to every cold start of the one function whose latency users feel.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.observability import logger
from handler.wiring import webhook as wiring

wiring.settings()  # a missing variable fails the function's start, by name


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check, deduplicate and process one webhook call."""
    return wiring.endpoint().handle(event)
