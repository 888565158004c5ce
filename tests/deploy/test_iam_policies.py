"""Least privilege, checked both ways: every AWS call a function's code makes is allowed by that function's
expanded policy, and the policy allows nothing its code does not call, on nothing but its own resources.

The code's side comes from a static scan of each command's import closure (tests/deploy/code_scan.py); the
policy's side from the template as SAM expands it offline (samtranslator, the library `sam deploy` uses).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.local.template import load_template
from tests.deploy.code_scan import closure
from tests.deploy.template_model import Function, functions, grants, managed_policies

# Managed policies SAM attaches: writing the function's own logs, and X-Ray segments (Tracing: Active).
PLATFORM_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}

# Actions IAM defines no resource type for (Service Authorization Reference): "*" is the only resource they take.
ACCOUNT_LEVEL_ACTIONS = {"lambda:GetAccountSettings"}

FUNCTIONS = sorted(functions())
RESOURCES = load_template()["Resources"]


def destination_grants(function: Function) -> set[str]:
    """Lambda itself uses the execution role to call an asynchronous invocation's destination functions."""
    config = function.properties.get("EventInvokeConfig", {}).get("DestinationConfig", {})
    return {"lambda:InvokeFunction" for d in config.values() if d.get("Type") == "Lambda"}


def test_every_function_is_checked() -> None:
    assert set(FUNCTIONS) == {
        "WebhookFunction",
        "WorkerFunction",
        "FailureFunction",
        "WebhookRegistrationFunction",
        "WorkerCapFunction",
    }


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_aws_call_of_the_code_is_allowed(logical_id: str) -> None:
    function = functions()[logical_id]
    granted = {g.action for g in grants(logical_id)}
    calls = closure(function.entry_module).aws_calls
    missing = {action: str(site) for action, site in calls.items() if action not in granted}
    assert not missing, (
        f"{logical_id}'s code makes AWS calls its policy in template.yaml does not allow: {missing}. "
        f"Add these actions to {logical_id}'s Policies, on its own resources only."
    )


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_policy_allows_nothing_the_code_does_not_call(logical_id: str) -> None:
    function = functions()[logical_id]
    calls = set(closure(function.entry_module).aws_calls)
    granted = {g.action for g in grants(logical_id)}
    unused = granted - calls - destination_grants(function)
    assert not unused, f"{logical_id} is granted {sorted(unused)}, which its code never calls: remove them."
    assert not any("*" in g.action for g in grants(logical_id)), "no wildcard actions"


def test_only_account_level_actions_take_every_resource() -> None:
    # "*" is allowed only for actions IAM cannot narrow, and only where the code calls them
    for logical_id in FUNCTIONS:
        for grant in grants(logical_id):
            if grant.resources == ('"*"',):
                assert grant.action in ACCOUNT_LEVEL_ACTIONS, f"{logical_id}: {grant.action} on every resource"


def _ref_name(value: Any) -> str | None:
    """`!Ref X` -> X; `!GetAtt X.Arn` -> X."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def _parameter_name_expression(value: Any) -> str | None:
    """A parameter name as template text: `!Ref P` -> `${P}`, `!Sub "/x"` -> `/x`."""
    if isinstance(value, dict) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    return None


def own_resources(function: Function) -> dict[str, set[str]]:
    """What a function may touch: the tables and functions it is told about, the parameters it is told to read."""
    env = function.environment
    refs = {name for value in env.values() if (name := _ref_name(value))}
    tables = {r for r in refs if RESOURCES.get(r, {}).get("Type") == "AWS::DynamoDB::Table"}
    lambdas = {r for r in refs if RESOURCES.get(r, {}).get("Type") == "AWS::Serverless::Function"}
    config = function.properties.get("EventInvokeConfig", {}).get("DestinationConfig", {})
    lambdas |= {name for d in config.values() if (name := _ref_name(d.get("Destination")))}
    lambdas.add(function.logical_id)  # itself: the webhook's album wakeup (checked below, by name)
    parameters = {
        expr for key, value in env.items() if key.endswith("_PARAMETER") and (expr := _parameter_name_expression(value))
    }
    for resource in RESOURCES.values():  # custom resources this function serves: their parameters and functions
        props = resource.get("Properties", {})
        if resource["Type"].startswith("Custom::") and _ref_name(props.get("ServiceToken")) == function.logical_id:
            lambdas |= {
                name
                for value in props.values()
                if (name := _ref_name(value)) and RESOURCES.get(name, {}).get("Type") == "AWS::Serverless::Function"
            }
            parameters |= {
                expr
                for key, value in props.items()
                if key.endswith("ParameterName") and (expr := _parameter_name_expression(value))
            }
    return {"tables": tables, "functions": lambdas, "parameters": parameters}


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_each_function_may_touch_only_its_own_resources(logical_id: str) -> None:
    function = functions()[logical_id]
    own = own_resources(function)
    ssm_arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    for grant in grants(logical_id):
        for resource_json in grant.resources:
            resource = json.loads(resource_json)
            where = f"{logical_id}: {grant.action} on {resource_json}"
            if grant.action in ACCOUNT_LEVEL_ACTIONS:
                assert resource == "*", f"{where}: an account-level action takes no narrower resource"
                continue
            assert resource != "*" and "*" not in resource_json, f"{where}: no wildcards"
            service = grant.action.split(":")[0]
            index = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/([\w.-]+)", str(resource.get("Fn::Sub", "")))
            if service == "dynamodb" and index is not None:
                # A table's index: queried only, and an index the table declares.
                table, name = index.groups()
                assert grant.action == "dynamodb:Query", where
                declared = RESOURCES[table]["Properties"].get("GlobalSecondaryIndexes", [])
                assert name in {i["IndexName"] for i in declared}, f"{where}: {table} has no index {name}"
                assert table in own["tables"], f"{where}: not a table this function is configured with"
            elif service == "dynamodb":
                assert resource == {"Fn::GetAtt": [_ref_name(resource), "Arn"]}, where
                assert _ref_name(resource) in own["tables"], f"{where}: not a table this function is configured with"
            elif service == "ssm":
                assert isinstance(resource, dict) and resource.get("Fn::Sub", "").startswith(ssm_arn), where
                name = resource["Fn::Sub"][len(ssm_arn) :]
                assert name in own["parameters"], f"{where}: not a parameter this function is configured with"
            elif service == "lambda":
                assert resource == {"Fn::GetAtt": [_ref_name(resource), "Arn"]}, where
                assert _ref_name(resource) in own["functions"], f"{where}: not a function this one is wired to"
            else:
                pytest.fail(f"{where}: a service no function of this project should need")


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_no_managed_policy_beyond_logs_and_tracing(logical_id: str) -> None:
    assert set(managed_policies(logical_id)) <= PLATFORM_MANAGED_POLICIES


def test_webhook_invokes_only_the_worker_and_itself_and_the_worker_only_its_failure_destination() -> None:
    webhook = {(g.action, g.resources) for g in grants("WebhookFunction") if g.action.startswith("lambda:")}
    assert webhook == {
        ("lambda:InvokeFunction", ('{"Fn::GetAtt": ["WorkerFunction", "Arn"]}',)),
        ("lambda:InvokeFunction", ('{"Fn::GetAtt": ["WebhookFunction", "Arn"]}',)),  # an album's wakeup
    }
    worker = {(g.action, g.resources) for g in grants("WorkerFunction") if g.action.startswith("lambda:")}
    assert worker == {("lambda:InvokeFunction", ('{"Fn::GetAtt": ["FailureFunction", "Arn"]}',))}
    # The cap's function reads the account's settings and sets the worker's concurrency, nothing else
    cap = {(g.action, g.resources) for g in grants("WorkerCapFunction")}
    on_worker = ('{"Fn::GetAtt": ["WorkerFunction", "Arn"]}',)
    assert cap == {
        ("lambda:GetAccountSettings", ('"*"',)),
        ("lambda:GetFunctionConcurrency", on_worker),
        ("lambda:PutFunctionConcurrency", on_worker),
        ("lambda:DeleteFunctionConcurrency", on_worker),
    }
    for other in ("FailureFunction", "WebhookRegistrationFunction"):
        assert not [g for g in grants(other) if g.action.startswith("lambda:")]


def test_only_the_registration_function_can_write_the_webhook_secret() -> None:
    writers = {f for f in FUNCTIONS for g in grants(f) if g.action in ("ssm:PutParameter", "ssm:DeleteParameter")}
    assert writers == {"WebhookRegistrationFunction"}
    registration = [g for g in grants("WebhookRegistrationFunction") if g.action == "ssm:PutParameter"]
    assert all("webhook-secret" in r for g in registration for r in g.resources)
