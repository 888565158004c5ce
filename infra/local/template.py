"""Reading template.yaml (CloudFormation short-form tags included) so that local runs use its definitions."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps `!Ref X` as {"Ref": X}, `!Sub s` as {"Fn::Sub": s} and so on."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as file:
        data: dict[str, Any] = yaml.load(file, Loader=_CfnLoader)
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
