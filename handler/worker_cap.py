"""Lambda entry point of the `Custom::WorkerCap` resource: reserves the worker's concurrency as far as the
account allows, and never fails a deploy because the account allows none (see `handler.deploy.worker_cap`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.deploy.cloudformation import answer
from handler.observability import logger
from handler.wiring.worker_cap import apply_worker_cap


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Reserve (or release) the worker's concurrency, and answer CloudFormation."""
    answer(event, context, apply_worker_cap)
