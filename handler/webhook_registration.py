"""Lambda entry point of the `Custom::TelegramWebhook` resource: the stack registers its own webhook.

CloudFormation calls it on create, update and delete of the stack; it always answers CloudFormation, also when
Telegram refuses or something unexpected happens (see `handler.deploy.cloudformation`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.deploy.cloudformation import answer
from handler.observability import logger
from handler.wiring.registration import register_webhook


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Register, update or remove the Telegram webhook, and answer CloudFormation."""
    answer(event, context, register_webhook)
