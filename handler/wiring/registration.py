"""Wiring of the `Custom::TelegramWebhook` resource: SSM and the Bot API client of registration."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from handler.deploy.cloudformation import AWS_CONFIG, Outcome
from handler.deploy.telegram_webhook import TelegramWebhook
from handler.settings import get_settings
from handler.wiring.telegram import blocking_telegram


def register_webhook(request: CloudFormationCustomResourceEvent) -> Outcome:
    """The work of one custom resource request, with this execution environment's settings."""
    import boto3

    settings = get_settings()
    resource = TelegramWebhook(boto3.client("ssm", config=AWS_CONFIG), lambda token: blocking_telegram(settings, token))
    return resource(request)
