"""Shared fixtures: the real parts every test runs against, all on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.dynamodb import LocalDynamoDB, create_tables, local_aws_environment
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction, EmulatorPool
from infra.local.lambda_service import LocalLambdaService, Route

# Under pytest-xdist each worker process gets its share of the CPUs for PyTorch, so that two workers on two cores
# do not run four spinning threads (set before anything imports torch).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("STYLEBOT_THREADS", str(_share))
    os.environ.setdefault("OMP_NUM_THREADS", str(_share))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-transcripts",
        action="store_true",
        default=False,
        help="rewrite docs/conversation.<language>.md from this run instead of comparing (make transcripts)",
    )


BOT_TOKEN = "123456789:AAtest-token-for-the-fake-bot-api_00"
WEBHOOK_SECRET = "webhook-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def bot_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi(BOT_TOKEN).start()
    yield api
    api.stop()


@pytest.fixture
def telegram(bot_api: FakeBotApi) -> FakeBotApi:
    """The fake Bot API with an empty call log for this test."""
    bot_api.reset()
    return bot_api


@pytest.fixture(scope="session")
def dynamodb_server() -> Iterator[LocalDynamoDB]:
    server = LocalDynamoDB().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lambda_service() -> Iterator[LocalLambdaService]:
    service = LocalLambdaService().start()
    yield service
    service.stop()


@pytest.fixture
def lambdas(lambda_service: LocalLambdaService) -> LocalLambdaService:
    """The local Lambda Invoke API with an empty record for this test."""
    lambda_service.reset()
    return lambda_service


@pytest.fixture(scope="session")
def aws_env(dynamodb_server: LocalDynamoDB, lambda_service: LocalLambdaService) -> dict[str, str]:
    """Environment that sends boto3 to the local servers (DynamoDB, SSM, Lambda) with dummy credentials."""
    env = local_aws_environment(dynamodb_server.url)
    env["AWS_ENDPOINT_URL_SSM"] = dynamodb_server.url
    env["AWS_ENDPOINT_URL_LAMBDA"] = lambda_service.url
    return env


@pytest.fixture(scope="session")
def aws_clients(aws_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    saved = {k: os.environ.get(k) for k in aws_env}
    os.environ.update(aws_env)
    yield {"dynamodb": boto3.client("dynamodb"), "ssm": boto3.client("ssm")}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def tables(aws_clients: dict[str, Any]) -> dict[str, str]:
    """The tables of template.yaml, created on the local server for this test session."""
    return create_tables(aws_clients["dynamodb"], prefix=f"t{uuid.uuid4().hex[:8]}-")


@pytest.fixture(scope="session")
def secret_parameters(aws_clients: dict[str, Any]) -> dict[str, str]:
    """The bot token and webhook secret as SSM SecureStrings, where the deployed stack reads them."""
    names = {
        "TELEGRAM_BOT_TOKEN_PARAMETER": "/stylebot-test/bot-token",
        "TELEGRAM_WEBHOOK_SECRET_PARAMETER": "/stylebot-test/webhook-secret",
    }
    values = {"TELEGRAM_BOT_TOKEN_PARAMETER": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET_PARAMETER": WEBHOOK_SECRET}
    for key, name in names.items():
        aws_clients["ssm"].put_parameter(Name=name, Value=values[key], Type="SecureString", Overwrite=True)
    return names


@pytest.fixture(scope="session")
def test_weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The seeded test weights of every model and the manifest pinning them, as the image carries the real ones:
    with them present, the webhook offers everything (its catalogue is built from the weights it finds)."""
    from tests.ml_helpers import write_test_weights

    folder = tmp_path_factory.mktemp("function-weights")
    manifest = write_test_weights(folder)
    return {"STYLEBOT_WEIGHTS_DIR": str(folder), "STYLEBOT_MANIFEST": str(manifest)}


@pytest.fixture(scope="session")
def function_env(
    aws_env: dict[str, str],
    tables: dict[str, str],
    secret_parameters: dict[str, str],
    bot_api: FakeBotApi,
    test_weights: dict[str, str],
) -> dict[str, str]:
    """The environment template.yaml gives the functions, pointed at the local servers, with the test weights."""
    return {
        **aws_env,
        **secret_parameters,
        **test_weights,
        "STATE_TABLE": tables["StateTable"],
        "WORKER_FUNCTION_NAME": "WorkerFunction",
        "TELEGRAM_API_BASE_URL": bot_api.url,
        "POWERTOOLS_SERVICE_NAME": "stylebot",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def webhook(function_env: dict[str, str], lambda_service: LocalLambdaService) -> Iterator[EmulatedFunction]:
    """The webhook function of template.yaml in one emulated Lambda execution environment.

    The webhook's asynchronous invocations of itself (an album's wakeup) go, as in Lambda, to other execution
    environments of the function: a pool beside this one, behind the Lambda service (which answers the
    invocation 202 at once). Through this one environment they could not run (it serves one invocation at a
    time), and a synchronous one would hold the album's next picture until the wakeup had acted."""
    function = EmulatedFunction("WebhookFunction", function_env).start()
    others = EmulatorPool("WebhookFunction", function_env, timeout_seconds=30)
    lambda_service.route("WebhookFunction", Route(others.invoke, retry_delay=0.2))
    yield function
    lambda_service.route("WebhookFunction", Route())
    others.stop()
    function.stop()
