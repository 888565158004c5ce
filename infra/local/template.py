"""Reading template.yaml (with cfn-lint's CloudFormation decoder) so that local runs use its definitions."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class TemplateError(ValueError):
    """template.yaml cannot be read as a CloudFormation template."""


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short-form tags in their long form (`!Ref X` -> {"Ref": X}), as cfn-lint
    reads it."""
    from cfnlint.decode import decode

    template, problems = decode(str(path))
    if template is None or problems:
        raise TemplateError(f"{path}: {'; '.join(str(p) for p in problems)}")
    data: dict[str, Any] = json.loads(json.dumps(template))  # cfn-lint's nodes as plain dicts and lists
    return data


def resources(kind: str, path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {
        name: resource for name, resource in load_template(path)["Resources"].items() if resource.get("Type") == kind
    }


def function_command(logical_id: str, path: Path = TEMPLATE) -> list[str]:
    """The ImageConfig.Command of a function: what the container runs as its handler."""
    function = resources("AWS::Serverless::Function", path)[logical_id]
    command: list[str] = function["Properties"]["ImageConfig"]["Command"]
    return command


def event_invoke_config(logical_id: str, path: Path = TEMPLATE) -> tuple[int, int, str | None]:
    """(MaximumRetryAttempts, MaximumEventAgeInSeconds, on-failure function's logical id) of a function."""
    function = resources("AWS::Serverless::Function", path)[logical_id]
    config = function["Properties"].get("EventInvokeConfig", {})
    destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    target = None
    if isinstance(destination, dict) and "Fn::GetAtt" in destination:
        target = destination["Fn::GetAtt"][0]
    return int(config.get("MaximumRetryAttempts", 2)), int(config.get("MaximumEventAgeInSeconds", 21600)), target
