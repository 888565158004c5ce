"""Wiring of the `Custom::TelegramWebhook` resource: SSM and the Bot API client of registration."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from handler.deploy.cloudformation import Outcome
from handler.deploy.telegram_webhook import AWS_CONFIG, TelegramWebhook
from handler.settings import get_settings


def register_webhook(request: CloudFormationCustomResourceEvent) -> Outcome:
    """The work of one custom resource request, with this execution environment's settings."""
    import boto3

    resource = TelegramWebhook(boto3.client("ssm", config=AWS_CONFIG), get_settings().telegram_api_base_url)
    return resource(request)
