"""template.yaml and samconfig.toml as an operator relies on them: one image, handlers that exist, the worker's
resources and retry policy, tables, logs, the alarm, outputs, and deploy configurations that name real
parameters."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import tomllib
from typing import Any

import pytest

from handler.bot.application import ALLOWED_UPDATES
from handler.core.limits import WORKER_TIMEOUT_SECONDS
from infra.local.lambda_emulator import ROOT
from infra.local.template import load_template, resources
from tests.deploy.template_model import functions

TEMPLATE = load_template()
FUNCTIONS = sorted(functions())


# What Lambda's runtime sets in every function's environment.
LAMBDA_RUNTIME = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


def _started(environment: dict[str, str], probe: str) -> subprocess.Popen[str]:
    """A fresh interpreter (as a cold container) with exactly `environment` and the Python it needs."""
    # What Lambda's runtime itself sets, plus the function's own variables.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | LAMBDA_RUNTIME | environment
    return subprocess.Popen(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _template_environment(logical_id: str) -> dict[str, str]:
    """The variables template.yaml sets for the function: its literal values, and a stand-in for each value the
    stack resolves when deployed (a table name, a function name...)."""
    parameters = TEMPLATE["Parameters"]

    def resolved(name: str, value: object) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value.get("Ref") in parameters:  # a stack parameter: its default
            return str(parameters[value["Ref"]]["Default"])
        if isinstance(value, dict) and value.get("Fn::GetAtt") == ["WorkerCap", "Applied"]:
            return "0"  # what the cap resource answers where the account allows no reservation
        return f"stand-in-{name.lower()}"

    return {name: resolved(name, value) for name, value in functions()[logical_id].environment.items()}


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_each_command_resolves_to_an_importable_handler(logical_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the function's ImageConfig.Command, as the image's runtime reads it, and the environment the template
    # gives the function
    (handler_path,) = functions()[logical_id].command
    module_name, _, attribute = handler_path.rpartition(".")
    environment = _template_environment(logical_id)
    # When it is imported in a fresh interpreter (as a cold container does)
    probe = f"import {module_name} as m, sys; print(callable(getattr(m, {attribute!r}, None)), 'torch' in sys.modules)"
    process = _started(environment, probe)
    out, err = process.communicate(timeout=120)
    # Then the handler exists and is callable as (event, context), and only the worker may load torch
    assert process.returncode == 0, err[-2000:]
    is_callable, loads_torch = out.split()
    assert is_callable == "True", f"{handler_path} is not a callable in {module_name}"
    assert loads_torch == "False" or logical_id == "WorkerFunction"
    for name, value in (LAMBDA_RUNTIME | environment).items():
        monkeypatch.setenv(name, value)
    parameters = inspect.signature(getattr(importlib.import_module(module_name), attribute)).parameters
    assert len(parameters) == 2


@pytest.mark.parametrize(
    "needed",
    [
        {
            "WebhookFunction": "WORKER_FUNCTION_NAME",
            "WorkerFunction": "IDEMPOTENCY_TABLE",
            "FailureFunction": "STATE_TABLE",
        },
        # The functions that talk to Telegram: without the token's parameter, each would fail only at its first
        # invocation (the registration function reads it from its resource's properties, not its environment)
        {
            "WebhookFunction": "TELEGRAM_BOT_TOKEN_PARAMETER",
            "WorkerFunction": "TELEGRAM_BOT_TOKEN_PARAMETER",
            "FailureFunction": "TELEGRAM_BOT_TOKEN_PARAMETER",
        },
        {"WebhookFunction": "TELEGRAM_WEBHOOK_SECRET_PARAMETER"},
    ],
    ids=["tables", "bot-token", "webhook-secret"],
)
def test_a_function_started_without_a_variable_it_needs_fails_at_once_naming_it(needed: dict[str, str]) -> None:
    # Given each function's template environment less one variable its code cannot run without
    starts = {}
    for logical_id, missing in needed.items():
        environment = _template_environment(logical_id)
        del environment[missing]
        (handler_path,) = functions()[logical_id].command
        starts[logical_id] = _started(environment, f"import {handler_path.rpartition('.')[0]}")
    for logical_id, process in starts.items():
        # When the function starts (its module is imported, before any invocation)
        _, err = process.communicate(timeout=120)
        # Then it fails there, with one line that names the function and the variable (no stand-in name)
        assert process.returncode != 0
        last = err.strip().splitlines()[-1]
        assert last.startswith("handler.settings.MissingSetting:"), last
        assert logical_id in last and needed[logical_id] in last, last


def test_all_functions_are_one_image() -> None:
    metadata = {name: TEMPLATE["Resources"][name]["Metadata"] for name in FUNCTIONS}
    assert len({tuple(sorted(m.items())) for m in metadata.values()}) == 1, metadata
    assert next(iter(metadata.values()))["Dockerfile"] == "Dockerfile.lambda"
    assert all(functions()[name].properties["PackageType"] == "Image" for name in FUNCTIONS)
    commands = [functions()[name].command for name in FUNCTIONS]
    assert len({tuple(c) for c in commands}) == len(commands), "each function runs its own command"


def test_worker_is_sized_and_retried_deliberately() -> None:
    worker = functions()["WorkerFunction"].properties
    parameters = TEMPLATE["Parameters"]
    assert worker["Timeout"] == WORKER_TIMEOUT_SECONDS  # the job budget the worker keeps to is cut from it
    assert worker["MemorySize"] == {"Ref": "WorkerMemorySize"}
    assert parameters["WorkerMemorySize"]["Default"] == 10240  # 6 vCPUs
    # The cap is reserved by the WorkerCap resource, as far as the account allows: a reservation on the function
    # itself fails the whole deploy on an account that cannot reserve (a new account's limit of 10).
    assert "ReservedConcurrentExecutions" not in worker
    cap = TEMPLATE["Resources"]["WorkerCap"]
    assert cap["Type"] == "Custom::WorkerCap"
    assert cap["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["WorkerCapFunction", "Arn"]}
    assert cap["Properties"]["FunctionName"] == {"Ref": "WorkerFunction"}
    assert cap["Properties"]["ReservedConcurrency"] == {"Ref": "WorkerReservedConcurrency"}
    assert parameters["WorkerReservedConcurrency"]["Default"] == 4
    assert functions()["WorkerCapFunction"].properties["Timeout"] < cap["Properties"]["ServiceTimeout"]
    # The webhook shows queue positions against the cap in force, which the stack reports
    webhook_env = functions()["WebhookFunction"].environment
    assert webhook_env["WORKER_CONCURRENCY"] == {"Fn::GetAtt": ["WorkerCap", "Applied"]}
    assert TEMPLATE["Outputs"]["WorkerCapApplied"]["Value"] == {"Fn::GetAtt": ["WorkerCap", "Applied"]}
    invoke = worker["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 1
    assert WORKER_TIMEOUT_SECONDS < invoke["MaximumEventAgeInSeconds"] <= 3600
    assert invoke["DestinationConfig"]["OnFailure"] == {
        "Type": "Lambda",
        "Destination": {"Fn::GetAtt": ["FailureFunction", "Arn"]},
    }
    webhook = functions()["WebhookFunction"].properties
    assert webhook["MemorySize"] <= 1024 and webhook["Timeout"] <= 30


def test_tables_are_on_demand_with_ttl() -> None:
    tables = resources("AWS::DynamoDB::Table")
    assert set(tables) == {"StateTable", "IdempotencyTable"}
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["TimeToLiveSpecification"]["Enabled"] is True, name


def test_every_function_logs_to_a_group_with_retention() -> None:
    groups = resources("AWS::Logs::LogGroup")
    for name in FUNCTIONS:
        group = functions()[name].properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_failed_jobs_raise_an_alarm_with_somewhere_to_go() -> None:
    (alarm,) = [
        a for a in resources("AWS::CloudWatch::Alarm").values() if a["Properties"]["MetricName"] == "Invocations"
    ]
    props = alarm["Properties"]
    assert props["Namespace"] == "AWS/Lambda"
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "FailureFunction"}}]
    assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_outputs_give_the_webhook_url_and_the_tables() -> None:
    outputs = TEMPLATE["Outputs"]
    assert {"WebhookUrl", "StateTableName", "IdempotencyTableName"} <= set(outputs)
    (webhook,) = resources("Custom::TelegramWebhook").values()
    assert webhook["Properties"]["WebhookUrl"]["Fn::Sub"].endswith("/webhook")
    route = functions()["WebhookFunction"].properties["Events"]["Telegram"]["Properties"]
    assert route["Path"] == "/webhook" and route["Method"] == "POST"


def test_registration_subscribes_to_what_the_bot_handles_and_never_hangs_the_stack() -> None:
    (webhook,) = resources("Custom::TelegramWebhook").values()
    props = webhook["Properties"]
    assert props["AllowedUpdates"] == ALLOWED_UPDATES, "keep AllowedUpdates equal to the bot's ALLOWED_UPDATES"
    assert props["ServiceToken"] == {"Fn::GetAtt": ["WebhookRegistrationFunction", "Arn"]}
    assert props["ServiceTimeout"] <= 600
    assert functions()["WebhookRegistrationFunction"].properties["Timeout"] < props["ServiceTimeout"]
    # Telegram posts as soon as the webhook is set: API Gateway must already be allowed to invoke the function
    assert set(webhook["DependsOn"]) >= {"WebhookFunction", "WebhookFunctionTelegramPermission"}


def test_no_secret_values_in_the_template() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert not re.search(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b", text), "a bot token is in template.yaml"
    assert "NoEcho" not in text, "secrets are not typed in as parameters; they live in SSM"


def test_each_stack_reads_the_token_named_after_itself() -> None:
    # No parameter names the token: a second stack deployed with the first one's overrides, or none, still
    # cannot take over the first one's bot (sam deploy's --parameter-overrides replaces samconfig's list).
    assert not any("Token" in name for name in TEMPLATE["Parameters"])
    derived = {"Fn::Sub": "/${AWS::StackName}/bot-token"}
    (webhook,) = resources("Custom::TelegramWebhook").values()
    assert webhook["Properties"]["BotTokenParameterName"] == derived
    for function in functions().values():
        if "TELEGRAM_BOT_TOKEN_PARAMETER" in function.environment:
            assert function.environment["TELEGRAM_BOT_TOKEN_PARAMETER"] == derived, function.logical_id


def test_tables_use_the_free_default_encryption() -> None:
    # DynamoDB encrypts every table at rest with a key it owns; SSEEnabled switches to a KMS key billed per call
    for name, table in resources("AWS::DynamoDB::Table").items():
        assert "SSESpecification" not in table["Properties"], name


def _overrides(text: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', text))


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_samconfig_environments_deploy_with_real_parameters(environment: str) -> None:
    config: dict[str, Any] = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config[environment]["deploy"]["parameters"]
    # stack and region are global: `sam logs` and `sam delete` of the environment reach the same stack
    assert config[environment]["global"]["parameters"]["stack_name"]
    assert config[environment]["global"]["parameters"]["region"]
    assert "region" not in deploy
    assert "CAPABILITY_IAM" in deploy["capabilities"] and deploy["resolve_image_repos"] is True
    # a first deploy that fails is deleted rather than left in ROLLBACK_COMPLETE, where no deploy can follow
    assert deploy["on_failure"] == "DELETE" and not deploy.get("disable_rollback", False)
    parameters = TEMPLATE["Parameters"]
    for name, value in _overrides(deploy.get("parameter_overrides", "")).items():
        value = value.strip('"')
        assert name in parameters, f"samconfig [{environment}] overrides {name}, which template.yaml does not have"
        spec = parameters[name]
        if "AllowedValues" in spec:
            assert value in map(str, spec["AllowedValues"]), (name, value)
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
        if "MinValue" in spec:
            assert spec["MinValue"] <= int(value) <= spec.get("MaxValue", int(value)), (name, value)


def test_readme_tells_the_operator_every_parameter_and_the_token_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in TEMPLATE["Parameters"]:
        assert name in readme, f"README does not explain the parameter {name}"
    config: dict[str, Any] = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for environment in ("default", "prod"):
        stack = config[environment]["global"]["parameters"]["stack_name"]
        assert f"aws ssm put-parameter --type SecureString --name /{stack}/bot-token" in readme, stack
    headings = re.findall(r"^#{2,3} (?:\d+\. )?(.+)$", readme, flags=re.MULTILINE)
    for section in ("Deploy", "Update", "Logs", "Costs", "Teardown"):
        assert section in headings, f"README lacks the section {section!r}"
