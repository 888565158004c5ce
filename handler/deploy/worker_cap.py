"""The `Custom::WorkerCap` resource: the worker's reserved concurrency, as far as the account allows it.

Lambda keeps 100 of an account's concurrent executions unreserved, so an account below about 104 (a new
account's limit is 10) cannot reserve 4 for the worker, and a template that sets ReservedConcurrentExecutions
fails to deploy there. This resource reserves instead, on Create and Update: it reads the account's unreserved
executions (GetAccountSettings) and the worker's current reservation, and reserves min(requested, what the
account allows keeping 100 unreserved). Where that is nothing, the worker is left unreserved (uncapped), the
deploy goes on, and the answer's `Applied` (0) and a WARNING say so. `Applied` is what the webhook is given as
its WORKER_CONCURRENCY, so the queue positions it shows agree with the cap in force.

Delete removes the reservation, best effort: it never fails (the function may be gone already).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handler.deploy.cloudformation import Outcome, ResourceFailed, default_physical_id
from handler.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

# What Lambda keeps unreserved in every account (UnreservedConcurrentExecutions may not go below it).
MIN_UNRESERVED = 100


class WorkerCapProperties(BaseModel):
    """The resource's properties in template.yaml (CloudFormation passes numbers as strings)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    function_name: str = Field(alias="FunctionName", min_length=1)
    requested: int = Field(alias="ReservedConcurrency", ge=0)

    @staticmethod
    def parse(raw: dict[str, Any] | None) -> WorkerCapProperties:
        try:
            return WorkerCapProperties.model_validate(raw or {})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise ResourceFailed(f"invalid Custom::WorkerCap properties: {problems}") from None


def cap_to_apply(requested: int, unreserved: int, current: int) -> int:
    """The reservation to make: `requested`, or less where the account must keep MIN_UNRESERVED unreserved.

    `unreserved` is the account's UnreservedConcurrentExecutions, which excludes the worker's `current`
    reservation; that one is freed when it is replaced. 0 means: reserve nothing.
    """
    allowed = max(unreserved + current - MIN_UNRESERVED, 0)
    return min(requested, allowed)


class WorkerCap:
    """Create/Update/Delete of the worker's reserved concurrency."""

    def __init__(self, lambda_client: LambdaClient) -> None:
        self._lambda = lambda_client

    def __call__(self, request: CloudFormationCustomResourceEvent) -> Outcome:
        physical_id = default_physical_id(request)
        if request.request_type == "Delete":
            return self.delete(request.resource_properties, physical_id)
        props = WorkerCapProperties.parse(request.resource_properties)
        if props.requested == 0:
            self._call("DeleteFunctionConcurrency", props.function_name)
            logger.info("worker left unreserved: no cap requested", extra={"function": props.function_name})
            return self._outcome(physical_id, props, 0, "no cap requested (ReservedConcurrency 0); worker unreserved")
        limit = self._call("GetAccountSettings", props.function_name).get("AccountLimit", {})
        unreserved = int(limit.get("UnreservedConcurrentExecutions", 0))
        current = self._call("GetFunctionConcurrency", props.function_name).get("ReservedConcurrentExecutions") or 0
        applied = cap_to_apply(props.requested, unreserved, int(current))
        facts = {
            "function": props.function_name,
            "requested": props.requested,
            "applied": applied,
            "account_limit": limit.get("ConcurrentExecutions"),
            "unreserved": unreserved,
        }
        if applied == 0:
            self._call("DeleteFunctionConcurrency", props.function_name)
            logger.warning(
                "the account allows no reserved concurrency: the worker is NOT capped; the quotas and the daily "
                "budget still hold. Ask AWS for a higher concurrency limit and deploy again.",
                extra=facts,
            )
            reason = (
                f"worker NOT capped: the account's concurrency limit ({limit.get('ConcurrentExecutions')}) leaves "
                f"nothing to reserve beyond the {MIN_UNRESERVED} Lambda keeps unreserved"
            )
            return self._outcome(physical_id, props, 0, reason)
        self._call("PutFunctionConcurrency", props.function_name, applied)
        if applied < props.requested:
            logger.warning("worker capped below the requested concurrency: the account allows no more", extra=facts)
            reason = f"worker capped at {applied} of {props.requested} requested (what the account allows)"
        else:
            logger.info("worker capped", extra=facts)
            reason = f"worker capped at {applied}"
        return self._outcome(physical_id, props, applied, reason)

    def delete(self, raw: dict[str, Any] | None, physical_id: str) -> Outcome:
        """Best effort: the reservation goes with the resource, and nothing keeps the stack from being deleted."""
        try:
            props = WorkerCapProperties.parse(raw)
            self._call("DeleteFunctionConcurrency", props.function_name)
        except ResourceFailed as error:
            logger.warning(
                "the worker's reservation was not removed; the resource is deleted anyway", extra={"reason": str(error)}
            )
            return Outcome(physical_id, reason=f"deleted with warnings: {error}")
        logger.info("worker reservation removed", extra={"function": props.function_name})
        return Outcome(physical_id, reason="worker reservation removed")

    @staticmethod
    def _outcome(physical_id: str, props: WorkerCapProperties, applied: int, reason: str) -> Outcome:
        data = {"Applied": str(applied), "Requested": str(props.requested), "Capped": "true" if applied else "false"}
        return Outcome(physical_id, reason=reason, data=data)

    def _call(self, operation: str, function: str, reserve: int = 0) -> dict[str, Any]:
        """One control-plane call; its failure becomes a reason naming the call and the error code."""
        try:
            if operation == "GetAccountSettings":
                return dict(self._lambda.get_account_settings())
            if operation == "GetFunctionConcurrency":
                return dict(self._lambda.get_function_concurrency(FunctionName=function))
            if operation == "PutFunctionConcurrency":
                return dict(
                    self._lambda.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=reserve)
                )
            if operation == "DeleteFunctionConcurrency":
                self._lambda.delete_function_concurrency(FunctionName=function)
                return {}
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            if operation == "DeleteFunctionConcurrency" and code == "ResourceNotFoundException":
                return {}  # the function is gone: nothing is reserved for it
            raise ResourceFailed(f"lambda:{operation} on {function} failed: {code}") from None
        except BotoCoreError as error:
            raise ResourceFailed(f"lambda:{operation} on {function} failed: {type(error).__name__}") from None
        raise ValueError(operation)
