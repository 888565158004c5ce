"""The one Powertools Logger, Metrics and Tracer of the process; every module logs and measures through these.

The service name comes from `POWERTOOLS_SERVICE_NAME`, which template.yaml sets for every function (local mode
falls back to Powertools' default). Metrics go to the `Stylebot` namespace as CloudWatch embedded metric format
(EMF) lines, one per fact, each with exactly its own dimensions (plus `service`): `emit` is the only way the code
publishes one, and `handler.core.metric_names` lists every name.
"""

from __future__ import annotations

import logging.config
from collections.abc import Mapping
from functools import cache

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from handler.core.metric_names import Dimension, Metric

METRICS_NAMESPACE = "Stylebot"

logger = Logger()

# httpx logs every request URL at INFO, and Bot API URLs hold the bot token: its log stops at warnings.
logging.config.dictConfig({"version": 1, "incremental": True, "loggers": {"httpx": {"level": "WARNING"}}})


def emit(
    metric: Metric,
    value: float,
    unit: MetricUnit = MetricUnit.Count,
    dimensions: Mapping[Dimension, str] | None = None,
) -> None:
    """Publish one metric now (an EMF line on stdout, which Lambda sends to CloudWatch)."""
    with single_metric(
        name=metric,
        unit=unit,
        value=value,
        namespace=METRICS_NAMESPACE,
        default_dimensions={str(k): v for k, v in (dimensions or {}).items()},
    ):
        pass


@cache
def tracer() -> Tracer:
    """The tracer, made on first use: making it loads the X-Ray SDK and patches boto3, which only the worker
    pays for. The webhook relies on Lambda's own segments (`Tracing: Active`), which cost its cold start nothing."""
    return Tracer()
