"""template.yaml as the deployment sees it: functions, their environment, and their expanded IAM policies."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from infra.local.template import load_template


@dataclass(frozen=True)
class Function:
    logical_id: str
    properties: dict[str, Any]

    @property
    def command(self) -> list[str]:
        command: list[str] = self.properties["ImageConfig"]["Command"]
        return command

    @property
    def entry_module(self) -> str:
        return self.command[0].rsplit(".", 1)[0]

    @property
    def environment(self) -> dict[str, Any]:
        """The function's variables, Globals included (the function's own win)."""
        template = load_template()
        globals_ = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        own = self.properties.get("Environment", {}).get("Variables", {})
        return {**globals_, **own}


def functions() -> dict[str, Function]:
    return {
        name: Function(name, resource["Properties"])
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


class _OfflinePolicies:
    """samtranslator asks IAM for managed policy names only when one is not an ARN; ours are all ARNs."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def expanded() -> dict[str, Any]:
    """The CloudFormation template `sam deploy` would submit (SAM transform done offline, policy templates
    and event-invoke destinations expanded). ImageUri is what `sam deploy` fills in after pushing the image."""
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(json.loads(json.dumps(load_template())))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stylebot:v1"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result: dict[str, Any] = transform(template, {}, _OfflinePolicies())
    return result


@dataclass(frozen=True)
class Grant:
    action: str
    resources: tuple[str, ...]  # each resource expression as compact JSON
    policy: str


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_of(logical_id: str) -> dict[str, Any]:
    resources = expanded()["Resources"]
    role_ref = resources[logical_id]["Properties"]["Role"]
    role: dict[str, Any] = resources[role_ref["Fn::GetAtt"][0]]["Properties"]
    return role


def attached_policies(logical_id: str) -> list[dict[str, Any]]:
    """The function's role's inline policies, and the policies of their own (`AWS::IAM::Policy`) on that role:
    a grant on the function itself must be one of these, or its ARN would make a circular dependency."""
    resources = expanded()["Resources"]
    role = resources[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    inline: list[dict[str, Any]] = list(resources[role]["Properties"].get("Policies", []))
    standalone = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"].get("Roles", [])
    ]
    return inline + standalone


def grants(logical_id: str) -> list[Grant]:
    """Every Allow statement's actions on the function's execution role, with their resources."""
    found = []
    for policy in attached_policies(logical_id):
        for statement in _as_list(policy["PolicyDocument"]["Statement"]):
            assert statement["Effect"] == "Allow", f"{logical_id}: only Allow statements are expected"
            assert "NotAction" not in statement and "NotResource" not in statement
            resources = tuple(json.dumps(r, sort_keys=True) for r in _as_list(statement["Resource"]))
            for action in _as_list(statement["Action"]):
                found.append(Grant(action, resources, policy["PolicyName"]))
    return found


def managed_policies(logical_id: str) -> list[str]:
    arns: list[str] = []
    for arn in role_of(logical_id).get("ManagedPolicyArns", []):
        arns.append(arn if isinstance(arn, str) else json.dumps(arn))
    return arns
