"""The loopback stack the scripts run the functions against: the fake Bot API, the DynamoDB-compatible server
(which also holds SSM), the Lambda Invoke API, the template's tables, and the functions' environment."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import boto3

from infra.local.dynamodb import LocalDynamoDB, create_tables, local_aws_environment
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_service import LocalLambdaService


@dataclass
class LocalStack:
    telegram: FakeBotApi
    dynamodb: LocalDynamoDB
    lambdas: LocalLambdaService
    secret: str
    tables: dict[str, str]
    #: What template.yaml gives the functions, pointed at this stack (add the weights and options per script).
    function_env: dict[str, str]

    def stop(self) -> None:
        self.lambdas.stop()
        self.dynamodb.stop()
        self.telegram.stop()


def start_local_stack(token: str, table_prefix: str) -> LocalStack:
    """Start the servers, point this process's boto3 at them, and create the tables (named `table_prefix`...)."""
    secret = uuid.uuid4().hex
    telegram = FakeBotApi(token).start()
    dynamodb = LocalDynamoDB().start()
    lambdas = LocalLambdaService().start()
    env = local_aws_environment(dynamodb.url) | {
        "AWS_ENDPOINT_URL_SSM": dynamodb.url,
        "AWS_ENDPOINT_URL_LAMBDA": lambdas.url,
    }
    os.environ.update(env)
    tables = create_tables(boto3.client("dynamodb"), prefix=f"{table_prefix}{uuid.uuid4().hex[:6]}-")
    function_env = env | {
        "STATE_TABLE": tables["StateTable"],
        "WORKER_FUNCTION_NAME": "WorkerFunction",
        "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    return LocalStack(telegram, dynamodb, lambdas, secret, tables, function_env)
