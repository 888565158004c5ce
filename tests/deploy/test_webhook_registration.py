"""The stack registers its own webhook: the custom resource's function under the Lambda emulator, with
CloudFormation's real request shapes (tests/events/cfn-webhook-*.json), the fake Bot API, SSM on the local
server, and a local stand-in for the pre-signed URL CloudFormation waits on."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from handler.core.commands import COMMANDS
from handler.core.texts import text
from infra.local.cloudformation import CloudFormationResponses
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.conftest import BOT_TOKEN
from tests.deploy.conftest import registration_env
from tests.factories import cfn_event

TOKEN_PARAMETER = "/stylebot-deploy-test/bot-token"


@pytest.fixture(scope="module")
def token_parameter(aws_clients: dict[str, Any]) -> str:
    aws_clients["ssm"].put_parameter(Name=TOKEN_PARAMETER, Value=BOT_TOKEN, Type="SecureString", Overwrite=True)
    return TOKEN_PARAMETER


@pytest.fixture
def secret_parameter() -> str:
    """A webhook secret name of its own per test, as each stack derives its own."""
    return f"/stack-{uuid.uuid4().hex[:8]}/webhook-secret"


def stored(ssm: Any, name: str) -> dict[str, Any] | None:
    try:
        parameter: dict[str, Any] = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return parameter


def test_create_registers_the_webhook_with_a_generated_secret(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    aws_clients: dict[str, Any],
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given CloudFormation creating the TelegramWebhook resource of a new stack
    event = cfn_event(
        "create", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )

    # When the function handles the request
    registration.invoke(event)

    # Then Telegram got setWebhook with the stack's URL, allowed updates and connection limit
    (call,) = telegram.calls_to("setWebhook")
    assert call.params["url"] == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhook"
    # (sent form-encoded, as python-telegram-bot sends every call: lists as JSON, numbers as text)
    assert json.loads(call.params["allowed_updates"]) == ["message", "edited_message", "callback_query"]
    assert int(call.params["max_connections"]) == 40
    # And the secret token is a fresh random one, kept as a SecureString where the webhook reads it
    secret = call.params["secret_token"]
    assert len(secret) >= 32 and secret.replace("-", "").replace("_", "").isalnum()
    parameter = stored(aws_clients["ssm"], secret_parameter)
    assert parameter is not None and parameter["Type"] == "SecureString" and parameter["Value"] == secret
    # And CloudFormation was told SUCCESS, with the URL as data and neither secret in the answer
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS"
    assert answer.body["PhysicalResourceId"] == "stylebot-TelegramWebhook"
    assert answer.body["Data"] == {"WebhookUrl": call.params["url"]}
    assert answer.body["StackId"] == event["StackId"] and answer.body["LogicalResourceId"] == "TelegramWebhook"
    assert secret not in str(answer.body) and BOT_TOKEN not in str(answer.body)
    # And the logs hold neither the token nor the secret
    logs = registration.logs()
    assert "webhook registered" in logs
    assert BOT_TOKEN not in logs and secret not in logs


def test_create_registers_the_command_menus_in_english_and_russian(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given CloudFormation creating the TelegramWebhook resource
    event = cfn_event(
        "create", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )
    # When the function handles the request
    registration.invoke(event)
    assert cfn_responses.wait_for(event["RequestId"]).body["Status"] == "SUCCESS"
    # Then the bot's command menu is set for everyone in English, and for Russian users in Russian
    assert set(telegram.commands) == {"", "ru"}
    for code, language in (("", "en"), ("ru", "ru")):
        assert telegram.commands[code] == [(name, text(f"cmd_{name}", language)) for name in COMMANDS]
    assert [name for name, _ in telegram.commands["ru"]] == ["start", "styles", "cancel", "settings", "help", "forget"]


def test_update_keeps_the_secret_and_applies_new_settings(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    aws_clients: dict[str, Any],
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a stack created earlier
    names = {"BotTokenParameterName": token_parameter, "SecretParameterName": secret_parameter}
    registration.invoke(cfn_event("create", cfn_responses, **names))
    first_secret = telegram.calls_to("setWebhook")[0].params["secret_token"]

    # When an update raises max_connections to 80 (the stored update event)
    event = cfn_event("update", cfn_responses, **names)
    registration.invoke(event)

    # Then setWebhook is called again with the new limit and the same secret, and CloudFormation gets SUCCESS
    # with the same physical id (so it never sends a Delete for the webhook just set)
    second = telegram.calls_to("setWebhook")[1]
    assert int(second.params["max_connections"]) == 80
    assert second.params["secret_token"] == first_secret
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS"
    assert answer.body["PhysicalResourceId"] == event["PhysicalResourceId"]

    # When the operator bumps WebhookSecretVersion
    rotate = cfn_event("update", cfn_responses, **names)
    rotate["ResourceProperties"]["SecretVersion"] = "2"
    registration.invoke(rotate)

    # Then a new secret is registered and stored
    third = telegram.calls_to("setWebhook")[2]
    assert third.params["secret_token"] != first_secret
    parameter = stored(aws_clients["ssm"], secret_parameter)
    assert parameter is not None and parameter["Value"] == third.params["secret_token"]
    assert cfn_responses.wait_for(rotate["RequestId"]).body["Status"] == "SUCCESS"


def test_delete_removes_the_webhook_and_the_secret(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    aws_clients: dict[str, Any],
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a registered stack
    names = {"BotTokenParameterName": token_parameter, "SecretParameterName": secret_parameter}
    registration.invoke(cfn_event("create", cfn_responses, **names))
    assert stored(aws_clients["ssm"], secret_parameter) is not None

    # When the stack is deleted
    event = cfn_event("delete", cfn_responses, **names)
    registration.invoke(event)

    # Then Telegram got deleteWebhook, the secret is gone, and CloudFormation got SUCCESS
    assert len(telegram.calls_to("deleteWebhook")) == 1
    assert stored(aws_clients["ssm"], secret_parameter) is None
    assert cfn_responses.wait_for(event["RequestId"]).body["Status"] == "SUCCESS"


def test_delete_succeeds_even_when_telegram_refuses(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a bot whose deleteWebhook fails (e.g. the token was revoked meanwhile)
    telegram.fail_next("deleteWebhook", 401, "Unauthorized")
    event = cfn_event(
        "delete", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )

    # When the stack is deleted
    registration.invoke(event)

    # Then the teardown is not blocked: SUCCESS, with the problem named in the reason
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS"
    assert "deleteWebhook" in answer.body["Reason"] and "401" in answer.body["Reason"]


def test_telegram_refusal_fails_the_resource_with_a_reason_and_no_token(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a Bot API that refuses the webhook
    telegram.fail_next("setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known")
    event = cfn_event(
        "create", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )

    # When the stack creates the resource
    registration.invoke(event)

    # Then CloudFormation gets FAILED with Telegram's reason (so the stack rolls back and says why)
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "FAILED"
    assert "setWebhook" in answer.body["Reason"] and "Failed to resolve host" in answer.body["Reason"]
    # And the token appears neither in the answer nor in the logs
    assert BOT_TOKEN not in str(answer.body)
    assert BOT_TOKEN not in registration.logs()


def test_wrong_token_fails_without_showing_it(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    aws_clients: dict[str, Any],
    secret_parameter: str,
) -> None:
    # Given a token parameter holding a token Telegram does not know
    wrong = "987654321:AAwrong-token-nobody-should-see_0000"
    aws_clients["ssm"].put_parameter(
        Name="/stylebot-deploy-test/wrong-token", Value=wrong, Type="SecureString", Overwrite=True
    )
    event = cfn_event(
        "create",
        cfn_responses,
        BotTokenParameterName="/stylebot-deploy-test/wrong-token",
        SecretParameterName=secret_parameter,
    )

    # When the resource is created
    registration.invoke(event)

    # Then FAILED, saying Telegram refused it as unauthorized, without the token anywhere
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "FAILED"
    assert "401" in answer.body["Reason"]
    assert wrong not in str(answer.body) and wrong not in registration.logs()
    assert telegram.unauthorized_requests == 1


def test_missing_token_parameter_fails_with_the_command_that_fixes_it(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    secret_parameter: str,
) -> None:
    # Given an operator who skipped creating the token parameter
    event = cfn_event(
        "create",
        cfn_responses,
        BotTokenParameterName="/never-created/bot-token",
        SecretParameterName=secret_parameter,
    )

    # When the stack creates the resource
    registration.invoke(event)

    # Then the stack event says which parameter is missing and how to create it; Telegram was not called
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "FAILED"
    assert "/never-created/bot-token" in answer.body["Reason"]
    assert "aws ssm put-parameter --type SecureString" in answer.body["Reason"]
    assert telegram.calls_to("setWebhook") == []


def test_unexpected_exception_is_still_answered(
    registration: EmulatedFunction, cfn_responses: CloudFormationResponses
) -> None:
    # Given a malformed request (no StackId, no LogicalResourceId: the handler cannot even name the resource)
    request_id = str(uuid.uuid4())
    event = {"RequestType": "Create", "RequestId": request_id, "ResponseURL": cfn_responses.url(request_id)}

    # When the function handles it
    registration.invoke(event)

    # Then CloudFormation still gets FAILED, naming the error type and where to look
    answer = cfn_responses.wait_for(request_id)
    assert answer.body["Status"] == "FAILED"
    assert answer.body["Reason"].startswith("unexpected KeyError")
    assert "log stream" in answer.body["Reason"]


def test_answer_is_sent_again_when_the_response_url_fails_once(
    registration: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given S3 answering the first PUT with 503
    cfn_responses.fail_next(1)
    event = cfn_event(
        "create", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )
    # When the resource is created
    registration.invoke(event)
    # Then the answer still arrives (with an empty Content-Type, or the pre-signed URL would refuse it)
    assert cfn_responses.wait_for(event["RequestId"]).body["Status"] == "SUCCESS"
    assert cfn_responses.refused == 0


@pytest.fixture
def silent_bot_api() -> Iterator[str]:
    """A Bot API that accepts connections and never answers (a hung network path)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


def run_once(aws_env: dict[str, str], api_url: str, event: dict[str, Any], *, timeout_seconds: int) -> tuple[Any, str]:
    """Invoke a fresh registration function of `timeout_seconds` with `event`; its result and its logs."""
    function = EmulatedFunction(
        "WebhookRegistrationFunction", registration_env(aws_env, api_url), timeout_seconds=timeout_seconds
    ).start()
    try:
        return function.invoke(event, timeout=60), function.logs()
    finally:
        function.stop()


def test_hung_telegram_gets_failed_before_the_function_times_out(
    aws_env: dict[str, str],
    silent_bot_api: str,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a function with a 12 s timeout whose Bot API never answers
    event = cfn_event(
        "create", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )
    # When the stack creates the resource
    started = time.monotonic()
    run_once(aws_env, silent_bot_api, event, timeout_seconds=12)
    answer = cfn_responses.wait_for(event["RequestId"], timeout=30)
    elapsed = time.monotonic() - started
    # Then CloudFormation is told FAILED before Lambda would have killed the function, so the stack never waits
    assert answer.body["Status"] == "FAILED"
    assert "no result within" in answer.body["Reason"]
    assert elapsed < 12


def test_a_delete_telegram_never_answers_still_succeeds(
    aws_env: dict[str, str],
    silent_bot_api: str,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a stack being deleted while the Bot API hangs
    event = cfn_event(
        "delete", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )
    # When the function handles the delete
    run_once(aws_env, silent_bot_api, event, timeout_seconds=12)
    answer = cfn_responses.wait_for(event["RequestId"], timeout=30)
    # Then CloudFormation is told SUCCESS, saying what was left undone, so the stack never ends DELETE_FAILED
    assert answer.body["Status"] == "SUCCESS"
    assert "clean-up incomplete" in answer.body["Reason"] and "no result within" in answer.body["Reason"]
    assert answer.body["PhysicalResourceId"] == event["PhysicalResourceId"]


@pytest.mark.slow  # waits out the function's 30 s timeout
def test_an_answer_nobody_takes_is_tried_every_time_before_the_function_ends(
    aws_env: dict[str, str],
    silent_bot_api: str,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    secret_parameter: str,
) -> None:
    # Given a 30 s function whose Bot API and ResponseURL both accept connections and never answer
    event = cfn_event(
        "create", cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter
    )
    event["ResponseURL"] = f"{silent_bot_api}/cloudformation-response"
    # When the function handles the request
    result, logs = run_once(aws_env, silent_bot_api, event, timeout_seconds=30)
    # Then it ends by itself, within its time (Lambda did not end it): the work was cut short early enough that
    # every attempt to answer was made, and the last one is logged
    assert result is None, result
    assert logs.count("CloudFormation response could not be sent") == 3
    assert '"delivered":false' in logs.replace(" ", "")
