"""The one Powertools Logger, Metrics and Tracer of the process; every module logs through these.

The service name comes from `POWERTOOLS_SERVICE_NAME`, which template.yaml sets for every function (local mode
falls back to Powertools' default). Metrics go to the `Stylebot` namespace.
"""

from __future__ import annotations

import logging.config
from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "Stylebot"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)

# httpx logs every request URL at INFO, and Bot API URLs hold the bot token: its log stops at warnings.
logging.config.dictConfig({"version": 1, "incremental": True, "loggers": {"httpx": {"level": "WARNING"}}})


@cache
def tracer() -> Tracer:
    """The tracer, made on first use: making it loads the X-Ray SDK and patches boto3, which only the worker
    pays for. The webhook relies on Lambda's own segments (`Tracing: Active`), which cost its cold start nothing."""
    return Tracer()
