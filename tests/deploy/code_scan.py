"""Static reading of our own code, per Lambda function: which modules its command imports (transitively, lazy
imports included), which environment variables they read, and which AWS API calls they make.

AWS calls are found by name: a module that creates `boto3.client("<service>")` (anywhere in the function's
import closure) makes that service's operations callable, and every `<anything>.<operation>(...)` call whose
method name is one of them (botocore's own name mapping) counts as a call of that operation. Powertools
helpers that call AWS for us are mapped explicitly. This over-approximates a little (a same-named method on
another object would count) and never misses a call our code writes out, which is the safe direction for
"everything the code calls is allowed".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import botocore.session

from infra.local.lambda_emulator import ROOT

PROJECT_PACKAGES = ("handler", "ml", "infra")
SETTINGS_MODULE = "handler/settings.py"

# IAM action names that differ from the API operation name.
IAM_ACTION_NAMES = {"lambda:Invoke": "lambda:InvokeFunction", "lambda:InvokeAsync": "lambda:InvokeFunction"}

# Powertools helpers that call AWS on our behalf: function name -> IAM actions.
POWERTOOLS_CALLS = {
    "aws_lambda_powertools.utilities.parameters": {
        "get_parameter": {"ssm:GetParameter"},
        "get_parameters": {"ssm:GetParametersByPath"},
        "get_parameters_by_name": {"ssm:GetParameters"},
        "set_parameter": {"ssm:PutParameter"},
        "get_secret": {"secretsmanager:GetSecretValue"},
        "set_secret": {"secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"},
    },
    "aws_lambda_powertools.utilities.idempotency": {
        "DynamoDBPersistenceLayer": {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }
    },
}


@dataclass(frozen=True)
class Site:
    """Where in our code something happens."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Closure:
    """What the modules a function imports do."""

    modules: set[str] = field(default_factory=set)
    env_reads: dict[str, Site] = field(default_factory=dict)
    attributes: dict[str, Site] = field(default_factory=dict)
    aws_calls: dict[str, Site] = field(default_factory=dict)


def module_path(name: str) -> Path | None:
    """The source file of a project module (found on disk, nothing imported); None for anything else."""
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                parent = parts if is_package else parts[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@cache
def _operations(service: str) -> dict[str, str]:
    session = botocore.session.get_session()
    model = session.get_service_model(service)
    from botocore import xform_name

    prefix = model.signing_name if service != "lambda" else "lambda"
    return {xform_name(op): f"{prefix}:{op}" for op in model.operation_names}


def _string_constants(tree: ast.Module) -> dict[str, str]:
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _env_name(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


@cache
def closure(entry_module: str) -> Closure:
    """Everything the project modules imported from `entry_module` do (lazy imports included)."""
    result = Closure()
    parts = entry_module.split(".")
    pending = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    trees: dict[str, tuple[ast.Module, Path]] = {}
    while pending:
        name = pending.pop()
        if name in result.modules or not name.startswith(PROJECT_PACKAGES):
            continue
        path = module_path(name)
        if path is None:
            continue
        result.modules.add(name)
        tree = ast.parse(path.read_text(), str(path))
        trees[name] = (tree, path)
        for imported in _imports(tree, name, path.name == "__init__.py"):
            parts = imported.split(".")
            pending.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    services: set[str] = set()
    powertools: set[str] = set()
    for name, (tree, _) in trees.items():
        imported = _imports(tree, name, False)
        powertools.update(m for m in POWERTOOLS_CALLS if any(i == m or i.startswith(m + ".") for i in imported))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "client"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                services.add(str(node.args[0].value))
    for tree, path in trees.values():
        rel = str(path.relative_to(ROOT))
        constants = _string_constants(tree)
        for node in ast.walk(tree):
            site = Site(rel, getattr(node, "lineno", 0))
            # os.environ["X"], os.environ.get("X"), os.getenv("X")
            if (
                isinstance(node, ast.Subscript)
                and _is_environ(node.value)
                and (var := _env_name(node.slice, constants)) is not None
            ):
                result.env_reads.setdefault(var, site)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                reads_env = (node.func.attr in ("get", "pop", "setdefault") and _is_environ(node.func.value)) or (
                    node.func.attr == "getenv"
                )
                if reads_env and (var := _env_name(node.args[0], constants)) is not None:
                    result.env_reads.setdefault(var, site)
            if isinstance(node, ast.Attribute):
                # A use outside the settings module wins: settings' own properties read fields too, and a field
                # the function reads must not be hidden behind one of them.
                seen = result.attributes.get(node.attr)
                if seen is None or seen.path == SETTINGS_MODULE:
                    result.attributes[node.attr] = site
            if isinstance(node, ast.Call):
                called = (
                    node.func.attr
                    if isinstance(node.func, ast.Attribute)
                    else node.func.id
                    if isinstance(node.func, ast.Name)
                    else None
                )
                if called is None:
                    continue
                for service in services:
                    action = _operations(service).get(called)
                    if action is not None:
                        result.aws_calls.setdefault(IAM_ACTION_NAMES.get(action, action), site)
                for helper in powertools:
                    for action in POWERTOOLS_CALLS[helper].get(called, ()):
                        result.aws_calls.setdefault(action, site)
    return result
