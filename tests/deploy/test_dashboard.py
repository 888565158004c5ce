"""The operator's view and caps in template.yaml agree with the code: every Stylebot metric the dashboard and the
alarms use is emitted by the code (Powertools EMF through `handler.observability.emit`), every metric the code
emits is on the dashboard, and the caps' defaults are the code's."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from handler.core.limits import ASYNC_EVENT_MAX_AGE_SECONDS
from handler.core.metric_names import Metric
from handler.core.quotas import (
    DEFAULT_BEST_PER_DAY,
    DEFAULT_DAILY_BUDGET_SECONDS,
    DEFAULT_PRESET_PER_DAY,
    DEFAULT_PRICE_PER_GB_SECOND,
    DEFAULT_QUICK_PER_DAY,
)
from handler.observability import METRICS_NAMESPACE
from infra.local.lambda_emulator import ROOT
from infra.local.template import event_invoke_config, load_template, resources


def dashboard_metrics() -> set[tuple[str, str]]:
    """(namespace, metric name) of every metric the dashboards' widgets plot."""
    found = set()
    for dashboard in resources("AWS::CloudWatch::Dashboard").values():
        body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
        widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
        for widget in widgets:
            namespace = name = ""
            for metric in widget["properties"].get("metrics", []):
                values = [m for m in metric if isinstance(m, str)]
                namespace = namespace if values[0] == "." else values[0]
                name = name if values[1] == "." else values[1]
                found.add((namespace, name))
    return found


def alarm_metrics() -> set[tuple[str, str]]:
    return {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"])
        for a in resources("AWS::CloudWatch::Alarm").values()
    }


def _metric_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Metric":
        return Metric[node.attr].value
    return None


def emitted_metrics() -> dict[str, str]:
    """Metric name -> where the code emits it: the first argument of every `emit(...)` call, either `Metric.X` or
    a lookup in a module-level map of metrics (`FINAL[status]`)."""
    maps: dict[str, list[str]] = {}
    trees = {path: ast.parse(path.read_text()) for path in sorted((ROOT / "handler").rglob("*.py"))}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                values = [m for v in node.value.values if (m := _metric_of(v))]
                for target in node.targets:
                    if isinstance(target, ast.Name) and values:
                        maps[target.id] = values
    found: dict[str, str] = {}
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "emit"):
                continue
            first = node.args[0]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if (name := _metric_of(first)) is not None:
                found.setdefault(name, where)
            elif isinstance(first, ast.Subscript) and isinstance(first.value, ast.Name):
                for name in maps[first.value.id]:
                    found.setdefault(name, where)
    return found


def test_every_stylebot_metric_of_the_dashboard_and_the_alarms_is_emitted_by_the_code() -> None:
    used = {name for namespace, name in dashboard_metrics() | alarm_metrics() if namespace == METRICS_NAMESPACE}
    missing = used - set(emitted_metrics())
    assert not missing, f"template.yaml plots or alarms on metrics no code emits: {sorted(missing)}"


def test_every_metric_the_code_emits_is_on_the_dashboard() -> None:
    on_dashboard = {name for namespace, name in dashboard_metrics() if namespace == METRICS_NAMESPACE}
    missing = {name: where for name, where in emitted_metrics().items() if name not in on_dashboard}
    assert not missing, f"the code emits metrics the dashboard does not show: {missing}"
    assert set(emitted_metrics()) == {m.value for m in Metric}, "a name of handler/core/metric_names.py is unused"


def test_the_dashboard_covers_what_the_operator_needs_from_aws() -> None:
    aws = dashboard_metrics()
    for needed in [
        ("AWS/Lambda", "Invocations"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Duration"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "AsyncEventAge"),
        ("AWS/Lambda", "AsyncEventsDropped"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
    ]:
        assert needed in aws, needed
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in resources("AWS::CloudWatch::Alarm").values()}
    assert alarms["AsyncEventAge"]["Threshold"] == 600000  # events older than 10 minutes
    assert alarms["BudgetUsedPercent"]["Threshold"] == 80
    assert {"Errors", "Throttles"} <= set(alarms)
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def parameter_default(name: str) -> Any:
    return load_template()["Parameters"][name]["Default"]


def test_the_caps_hold_by_default_and_their_defaults_are_the_codes() -> None:
    assert int(parameter_default("WorkerReservedConcurrency")) > 0
    assert int(parameter_default("QuotaQuickPerDay")) == DEFAULT_QUICK_PER_DAY
    assert int(parameter_default("QuotaBestPerDay")) == DEFAULT_BEST_PER_DAY
    assert int(parameter_default("QuotaPresetPerDay")) == DEFAULT_PRESET_PER_DAY
    assert float(parameter_default("DailyBudgetWorkerSeconds")) == DEFAULT_DAILY_BUDGET_SECONDS
    assert float(parameter_default("LambdaPricePerGbSecond")) == DEFAULT_PRICE_PER_GB_SECOND
    assert event_invoke_config("WorkerFunction")[1] == ASYNC_EVENT_MAX_AGE_SECONDS
