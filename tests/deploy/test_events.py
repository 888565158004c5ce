"""One set of events, two runners: the events in tests/events/ and what each function does with them.

The stored events are checked first: each is valid for the code that reads it (the handler's own models) and
has the shape `sam local generate-event` prints where it prints one. Then every case runs under two runners,
with the same assertions:

- the Lambda Runtime Interface Emulator here (`python -m awslambdaric <ImageConfig.Command>`, as the image's
  entry point runs it; infra/local/lambda_emulator.py);
- `sam local invoke` of the image `sam build` builds from Dockerfile.lambda, where a Docker engine exists
  (skipped, saying so, where none does; STYLEBOT_REQUIRE_DOCKER=1 makes that a failure, as in CI).

Both point the functions at the same loopback stand-ins: the DynamoDB-compatible server (which also serves
SSM), the fake Bot API, the local Lambda API and the local stand-in for CloudFormation's response URL. The
container gets its environment from `--env-vars` and reaches the stand-ins through relays on the Docker bridge's
gateway address (see `Relays`).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import Job, JobStatus
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text
from handler.core.webhook_request import SECRET_HEADER, WebhookRequest
from handler.deploy.telegram_webhook import WebhookProperties
from handler.deploy.worker_cap import WorkerCapProperties
from infra.local.cloudformation import CloudFormationResponses
from infra.local.fake_bot_api import FakeBotApi
from infra.local.http_proxy import KeepAliveProxy
from infra.local.lambda_emulator import ROOT, EmulatedFunction
from infra.local.lambda_service import LocalLambdaService
from infra.local.template import load_template, resources
from tests.conftest import BOT_TOKEN, WEBHOOK_SECRET
from tests.deploy.conftest import registration_env
from tests.docker import docker_bridge_gateway, docker_engine_available
from tests.factories import (
    EVENTS,
    api_gateway_event,
    cfn_event,
    failure_record,
    job_event,
    message_update,
    stored_event,
)
from tests.ml_helpers import write_test_weights
from tests.pipeline import BRICK, CAT

BIN = Path(sys.executable).parent
FUNCTIONS = ("WebhookFunction", "WorkerFunction", "FailureFunction", "WebhookRegistrationFunction", "WorkerCapFunction")
WEBHOOK_EVENTS = ("http-api", "rest-api")
CFN_REQUESTS = ("create", "update", "delete")
TOKEN_PARAMETER = "/stylebot-events-test/bot-token"
_user_ids = itertools.count(910_000)


# --- the stored events ----------------------------------------------------------------------------------------


def test_worker_event_is_the_webhooks_async_payload() -> None:
    # Given the stored worker event
    event = stored_event("worker-job.json")
    # When the worker's own model reads it (what its event parser does first)
    job = Job.model_validate(event)
    # Then it is exactly what the webhook sends for that job: every field of the job, nothing else
    assert json.loads(job.to_json()) == event


def test_failure_record_wraps_the_worker_event() -> None:
    # Given the stored on-failure destination record
    record = stored_event("lambda-destination-failure.json")
    # Then it has the fields of Lambda's destination record, and it wraps the stored worker event as sent
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["requestContext"]["condition"] in ("RetriesExhausted", "EventAgeExceeded")
    assert record["requestPayload"] == stored_event("worker-job.json")
    assert record["responsePayload"]["errorType"]


@pytest.mark.parametrize("kind", WEBHOOK_EVENTS)
def test_webhook_events_are_telegram_posts_without_the_secret(kind: str) -> None:
    # Given a stored API Gateway event
    event = stored_event(f"{kind}-webhook.json")
    # When the webhook's own reader reads it
    request = WebhookRequest.from_event(event)
    # Then it is a POST of an update, without the secret header (the cases below add it where they need it)
    assert request.method == "POST"
    assert isinstance(request.update()["update_id"], int)
    assert request.header(SECRET_HEADER) == ""


# The stored requests' resource -> its logical id in template.yaml and its function's own model of the properties.
CFN_RESOURCES = {
    "webhook": ("TelegramWebhook", WebhookProperties.parse),
    "workercap": ("WorkerCap", WorkerCapProperties.parse),
}


@pytest.mark.parametrize("resource", CFN_RESOURCES)
@pytest.mark.parametrize("kind", CFN_REQUESTS)
def test_cfn_events_carry_the_properties_the_template_gives_the_resource(kind: str, resource: str) -> None:
    # Given a stored CloudFormation request
    event = stored_event(f"cfn-{resource}-{kind}.json")
    logical_id, parse = CFN_RESOURCES[resource]
    assert event["LogicalResourceId"] == logical_id
    # Then it is the request type its name says, with a physical id exactly where CloudFormation sends one
    assert event["RequestType"] == kind.capitalize()
    assert ("PhysicalResourceId" in event) == (kind != "create")
    assert ("OldResourceProperties" in event) == (kind == "update")
    # And its properties are those of the resource in template.yaml, valid for the function's own model
    template_properties = load_template()["Resources"][logical_id]["Properties"]
    for properties in (event["ResourceProperties"], event.get("OldResourceProperties", event["ResourceProperties"])):
        assert set(properties) == set(template_properties)
        parse(properties)


def _shape(value: Any, path: str = "") -> set[str]:
    """Every key path of `value` ("a.b.c"), not descending into maps whose keys are data (headers and such)."""
    free = {"headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters"}
    free |= {"pathParameters", "stageVariables", "ResourceProperties", "claims"}
    if not isinstance(value, dict):
        return set()
    paths = set()
    for key, item in value.items():
        paths.add(f"{path}{key}")
        if key not in free:
            paths |= _shape(item, f"{path}{key}.")
    return paths


@functools.cache
def _generated_event(service: str, event_type: str) -> str:
    """What `sam local generate-event SERVICE EVENT_TYPE` prints (once per source: six stored events share one)."""
    return subprocess.run(
        [str(BIN / "sam"), "local", "generate-event", service, event_type],
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


@pytest.mark.parametrize(
    ("name", "service", "event_type"),
    [
        ("http-api-webhook.json", "apigateway", "http-api-proxy"),
        ("rest-api-webhook.json", "apigateway", "aws-proxy"),
        # The pinned SAM CLI prints a create request only; an update and a delete add to it.
        *((f"cfn-webhook-{kind}.json", "cloudformation", "create-request") for kind in CFN_REQUESTS),
        *((f"cfn-workercap-{kind}.json", "cloudformation", "create-request") for kind in CFN_REQUESTS),
    ],
)
def test_events_have_the_shape_sam_local_generate_event_prints(name: str, service: str, event_type: str) -> None:
    # Given what `sam local generate-event` prints for the event's source
    generated = _generated_event(service, event_type)
    # Then the stored event has every field it has
    missing = _shape(json.loads(generated)) - _shape(stored_event(name))
    assert not missing, f"{name} lacks {sorted(missing)}"


# --- the two runners ------------------------------------------------------------------------------------------


class Runner(Protocol):
    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Invoke `function` synchronously with `event`; its result (or Lambda's error document), decoded."""
        ...


class LambdaEmulator:
    """Each function in one emulated execution environment, started on first use."""

    def __init__(self, environments: dict[str, dict[str, str]]) -> None:
        self._environments = environments
        self._functions: dict[str, EmulatedFunction] = {}

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        if function not in self._functions:
            timeout = int(resources("AWS::Serverless::Function")[function]["Properties"]["Timeout"])
            self._functions[function] = EmulatedFunction(
                function, self._environments[function], timeout_seconds=timeout
            ).start()
        return self._functions[function].invoke(event, timeout=300)

    def stop(self) -> None:
        for function in self._functions.values():
            function.stop()


class Relays:
    """Each loopback stand-in relayed on `host`, an address of this machine that a container reaches.

    A container's own 127.0.0.1 is itself. `--docker-network host` would share the host's, but the pinned SAM CLI
    leaves a container asked for the host network on the default bridge (samcli/local/docker/container.py
    only skips connecting it to a network named "host"; aws/aws-sam-cli#4236). So every `http://127.0.0.1:<port>`
    given to the function, in its environment or in its event, is replaced by a relay to that port on the
    bridge's gateway address: the same servers, reached from the container.
    """

    LOOPBACK = re.compile(r"http://127\.0\.0\.1:(\d+)")

    def __init__(self, host: str) -> None:
        self._host = host
        self._relays: dict[int, KeepAliveProxy] = {}

    def reach(self, text: str) -> str:
        return self.LOOPBACK.sub(lambda match: self._relay(int(match.group(1))), text)

    def _relay(self, port: int) -> str:
        if port not in self._relays:
            self._relays[port] = KeepAliveProxy(("127.0.0.1", port), host=self._host).start()
        return self._relays[port].url

    def stop(self) -> None:
        for relay in self._relays.values():
            relay.stop()


# Set by `sam local invoke` from the host's AWS configuration (the process environment below), not from --env-vars.
SAM_SETS = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
SAM_ENV = {
    **os.environ,
    "SAM_CLI_TELEMETRY": "0",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class SamLocalInvoke:
    """`sam local invoke` of the built image, each function with its environment given by `--env-vars`.

    `--env-vars` sets only variables the template declares for the function (samcli/local/lambdafn/env_vars.py
    at the pinned version), and template.yaml rightly declares no AWS_ENDPOINT_URL_*. So the runner invokes a
    copy of the built template that also declares, empty, the names the environments add; their values come
    from --env-vars as usual. Nothing else of the built template changes: same image, command, memory, timeout.
    """

    def __init__(self, environments: dict[str, dict[str, str]], relays: Relays, folder: Path) -> None:
        self._relays = relays
        self._folder = folder
        template = copy.deepcopy(load_template(ROOT / ".aws-sam" / "build" / "template.yaml"))
        for function, environment in environments.items():
            properties = template["Resources"][function]["Properties"]
            declared = properties.setdefault("Environment", {}).setdefault("Variables", {})
            for name in environment.keys() - SAM_SETS:
                declared.setdefault(name, "")
        self._template = folder / "template.yaml"
        self._template.write_text(yaml.safe_dump(template, sort_keys=False))
        self._env_vars = folder / "env-vars.json"
        values = {f: {k: v for k, v in env.items() if k not in SAM_SETS} for f, env in environments.items()}
        self._env_vars.write_text(relays.reach(json.dumps(values)))

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        path = self._folder / f"event-{uuid.uuid4().hex}.json"
        path.write_text(self._relays.reach(json.dumps(event)))
        result = subprocess.run(
            [
                str(BIN / "sam"),
                "local",
                "invoke",
                function,
                "--template",
                str(self._template),
                "--event",
                str(path),
                "--env-vars",
                str(self._env_vars),
                "--skip-pull-image",
            ],
            cwd=ROOT,
            env=SAM_ENV,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        lines = result.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None


def sam_build() -> None:
    """`sam build`: the image of every function, from Dockerfile.lambda (it must build)."""
    build = subprocess.run(
        [str(BIN / "sam"), "build"], cwd=ROOT, env=SAM_ENV, capture_output=True, text=True, timeout=3600, check=False
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]


@pytest.fixture(scope="module")
def environments(
    function_env: dict[str, str], tables: dict[str, str], aws_env: dict[str, str], bot_api: FakeBotApi
) -> dict[str, dict[str, str]]:
    """What template.yaml gives each function, pointed at the loopback stand-ins; the same for both runners."""
    return {
        "WebhookFunction": function_env,
        "WorkerFunction": {**function_env, "IDEMPOTENCY_TABLE": tables["IdempotencyTable"]},
        "FailureFunction": function_env,
        "WebhookRegistrationFunction": registration_env(aws_env, bot_api.url),
        # Globals' variables only; its AWS calls go to the local Lambda control plane.
        "WorkerCapFunction": registration_env(aws_env, bot_api.url),
    }


NO_DOCKER = (
    "no Docker engine here: `sam build` builds Dockerfile.lambda and `sam local invoke` runs the image in "
    "Docker (the same cases ran under the Lambda emulator)"
)


@pytest.fixture(
    scope="module",
    params=["emulator", pytest.param("sam", marks=[pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(3600)])],
)
def runner(
    request: pytest.FixtureRequest,
    environments: dict[str, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Runner]:
    if request.param == "emulator":
        # The image holds the real weights; here the worker gets seeded random ones (MicroAST's ship with ml/).
        weights = tmp_path_factory.mktemp("weights")
        manifest = write_test_weights(weights)
        worker = {"STYLEBOT_WEIGHTS_DIR": str(weights), "STYLEBOT_MANIFEST": str(manifest)}
        emulator = LambdaEmulator({**environments, "WorkerFunction": {**environments["WorkerFunction"], **worker}})
        yield emulator
        emulator.stop()
        return
    if not docker_engine_available():
        if os.environ.get("STYLEBOT_REQUIRE_DOCKER") == "1":
            pytest.fail(NO_DOCKER)
        pytest.skip(NO_DOCKER)
    sam_build()
    relays = Relays(docker_bridge_gateway())
    yield SamLocalInvoke(environments, relays, tmp_path_factory.mktemp("sam"))
    relays.stop()


@pytest.fixture
def store(aws_clients: dict[str, Any], tables: dict[str, str]) -> DynamoDBStore:
    return DynamoDBStore(aws_clients["dynamodb"], tables["StateTable"], claim_ttl_seconds=3600)


@pytest.fixture(scope="module")
def token_parameter(aws_clients: dict[str, Any]) -> str:
    aws_clients["ssm"].put_parameter(Name=TOKEN_PARAMETER, Value=BOT_TOKEN, Type="SecureString", Overwrite=True)
    return TOKEN_PARAMETER


def queued_job(store: DynamoDBStore, telegram: FakeBotApi, status: str = JobStatus.QUEUED) -> dict[str, Any]:
    """A job of a new user as the webhook leaves it: the user's state names it, the job is stored with
    `status`, the user's pictures are on the Bot API. Returns the worker's event for it."""
    user_id = next(_user_ids)
    event = job_event(
        job_id=uuid.uuid4().hex[:16],
        user_id=user_id,
        chat_id=user_id,
        content_file_id=telegram.add_file(CAT),
        style_file_id=telegram.add_file(BRICK),
    )
    job = Job.model_validate(event)
    assert store.save(UserState(user_id=user_id, active_job=job.job_id, recent_jobs=(job.job_id,))) is not None
    store.put_job(job, status)
    return event


# --- the cases, under each runner -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", WEBHOOK_EVENTS)
def test_webhook_refuses_the_stored_event_without_the_secret(runner: Runner, telegram: FakeBotApi, kind: str) -> None:
    # When the webhook gets the stored event as it is (no secret header)
    answer = runner.invoke("WebhookFunction", stored_event(f"{kind}-webhook.json"))
    # Then it answers 403 and does nothing on the Bot API
    assert answer["statusCode"] == 403
    assert [c.method for c in telegram.calls if c.method != "getMe"] == []


@pytest.mark.parametrize("kind", WEBHOOK_EVENTS)
def test_webhook_answers_an_update_with_the_secret(runner: Runner, telegram: FakeBotApi, kind: str) -> None:
    # Given a new user's /start, carried by the stored event with the stack's secret header
    user_id = next(_user_ids)
    event = api_gateway_event(message_update("/start", user_id=user_id), secret=WEBHOOK_SECRET, kind=kind)
    # When the webhook gets it
    answer = runner.invoke("WebhookFunction", event)
    # Then it answers 200, and the user got the welcome through the Bot API
    assert answer["statusCode"] == 200
    (reply,) = telegram.calls_to("sendMessage", chat_id=user_id)
    assert "/help" in (reply.text or "")


def test_webhook_acts_on_the_wakeup_it_sends_itself_for_an_album(
    runner: Runner, telegram: FakeBotApi, store: DynamoDBStore
) -> None:
    # Given a user whose album of two was answered "got both pictures" (its one message, no keyboard yet)
    user_id = next(_user_ids)
    message_id = 777
    album = {"9001": telegram.add_file(CAT), "9002": telegram.add_file(BRICK)}
    flow = Flow(album_id="13580246913580246", album=album, album_answer=message_id)
    state = store.save(UserState(user_id=user_id, step=Step.NST_CONTENT, generation=3, flow=flow))
    assert state is not None
    # When the webhook gets the stored wakeup for it (its time long past: no wait)
    event = {**stored_event("webhook-wakeup.json"), "user_id": user_id, "chat_id": user_id}
    answer = runner.invoke("WebhookFunction", event)
    # Then it answers 200, the album's message shows the options, and the user is on them
    assert answer["statusCode"] == 200
    (edit,) = telegram.calls_to("editMessageText", chat_id=user_id)
    assert edit.params["message_id"] == str(message_id) and edit.reply_markup and "options" in (edit.text or "")
    assert store.load(user_id).step == Step.NST_OPTIONS
    # And the same wakeup again (Lambda's retry) changes nothing
    assert runner.invoke("WebhookFunction", event)["statusCode"] == 200
    assert len(telegram.calls_to("editMessageText", chat_id=user_id)) == 1


def test_worker_runs_a_queued_job_and_delivers(runner: Runner, telegram: FakeBotApi, store: DynamoDBStore) -> None:
    # Given a job the webhook stored QUEUED and handed over (the stored worker event, for this user's pictures)
    event = queued_job(store, telegram)
    user_id, job_id = event["user_id"], event["job_id"]
    # When the worker gets its event
    answer = runner.invoke("WorkerFunction", event)
    # Then the job is done: the picture went to the user's chat, the job is DONE and the user is free again
    assert answer == {"job_id": job_id, "status": "DONE"}
    (picture,) = telegram.calls_to("sendPhoto", chat_id=user_id)
    assert picture.files["photo"]
    assert store.job_status(user_id, job_id) == JobStatus.DONE
    assert store.load(user_id).active_job is None


def test_worker_answers_gone_for_a_job_nobody_stored(
    runner: Runner, telegram: FakeBotApi, store: DynamoDBStore
) -> None:
    # Given a job event for a job the table does not hold (erased by /forget, or never stored)
    user_id = next(_user_ids)
    event = job_event(job_id=uuid.uuid4().hex[:16], user_id=user_id, chat_id=user_id)
    # When the worker gets it
    answer = runner.invoke("WorkerFunction", event)
    # Then it runs nothing, says GONE (as its log does), and the user hears nothing; nothing is stored
    assert answer == {"job_id": event["job_id"], "status": "GONE"}
    assert telegram.calls == []
    assert store.job_status(user_id, event["job_id"]) is None


def test_failure_destination_marks_the_job_failed_and_tells_the_user_once(
    runner: Runner, telegram: FakeBotApi, store: DynamoDBStore
) -> None:
    # Given a job whose worker timed out mid-job (RUNNING), and Lambda's on-failure record for it
    job = queued_job(store, telegram, status=JobStatus.RUNNING)
    record = failure_record(job)
    # When the failure destination gets the record, and then the same record again (at-least-once delivery)
    first = runner.invoke("FailureFunction", record)
    again = runner.invoke("FailureFunction", record)
    # Then the job is FAILED and the user free, and the user was told once, on the job's progress message
    assert first == again == {"job_id": job["job_id"], "status": "FAILED"}
    assert store.job_status(job["user_id"], job["job_id"]) == JobStatus.FAILED
    assert store.load(job["user_id"]).active_job is None
    told = [c for c in telegram.calls if c.chat_id == job["chat_id"]]
    assert [(c.method, int(c.params["message_id"]), c.text) for c in told] == [
        ("editMessageText", job["progress_message_id"], text("job_failed", "en"))
    ]


@pytest.mark.parametrize("kind", CFN_REQUESTS)
def test_registration_answers_cloudformation(
    runner: Runner,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
    token_parameter: str,
    kind: str,
) -> None:
    # Given CloudFormation's stored request of this kind, answered at a local response URL, for a stack of its own
    secret_parameter = f"/stack-{uuid.uuid4().hex[:8]}/webhook-secret"
    event = cfn_event(kind, cfn_responses, BotTokenParameterName=token_parameter, SecretParameterName=secret_parameter)
    # When the registration function handles it
    runner.invoke("WebhookRegistrationFunction", event)
    # Then CloudFormation is told SUCCESS for the resource's one physical id
    answer = cfn_responses.wait_for(event["RequestId"], timeout=60)
    assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]
    assert answer.body["PhysicalResourceId"] == "stylebot-TelegramWebhook"
    # And Telegram was asked to set the stack's webhook (create, update) or to remove it (delete)
    if kind == "delete":
        assert len(telegram.calls_to("deleteWebhook")) == 1 and telegram.calls_to("setWebhook") == []
    else:
        (call,) = telegram.calls_to("setWebhook")
        assert call.params["url"] == event["ResourceProperties"]["WebhookUrl"]


@pytest.mark.parametrize("kind", CFN_REQUESTS)
def test_worker_cap_answers_cloudformation(
    runner: Runner, lambda_service: LocalLambdaService, cfn_responses: CloudFormationResponses, kind: str
) -> None:
    # Given CloudFormation's stored request of this kind, on an account at the standard limit
    lambda_service.account(1000)
    event = cfn_event(kind, cfn_responses, resource="workercap")
    # When the cap's function handles it
    runner.invoke("WorkerCapFunction", event)
    # Then CloudFormation is told SUCCESS for the resource's one physical id
    answer = cfn_responses.wait_for(event["RequestId"], timeout=60)
    assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]
    assert answer.body["PhysicalResourceId"] == "stylebot-WorkerCap"
    # And the worker is capped as asked (create, update), or its reservation removed (delete)
    worker = event["ResourceProperties"]["FunctionName"]
    expected = {} if kind == "delete" else {worker: int(event["ResourceProperties"]["ReservedConcurrency"])}
    assert lambda_service.reserved == expected


def test_the_cases_cover_every_function_and_every_stored_event() -> None:
    # Then the functions the cases above invoke (under both runners, so that each image command runs) are all
    # the template's, and the events they start from are all those stored
    assert set(resources("AWS::Serverless::Function")) == set(FUNCTIONS)
    assert {p.name for p in EVENTS.glob("*.json")} == {
        "worker-job.json",
        "lambda-destination-failure.json",
        *(f"{kind}-webhook.json" for kind in WEBHOOK_EVENTS),
        "webhook-wakeup.json",
        *(f"cfn-webhook-{kind}.json" for kind in CFN_REQUESTS),
        *(f"cfn-workercap-{kind}.json" for kind in CFN_REQUESTS),
    }
