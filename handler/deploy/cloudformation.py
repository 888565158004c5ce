"""The CloudFormation custom resource protocol: read the request, do the work, always answer.

CloudFormation waits for a PUT to the request's pre-signed `ResponseURL`. A function that raises, hangs or
times out without that PUT leaves the stack waiting (up to the resource's `ServiceTimeout`), so `answer`
runs the work under a deadline shorter than the function's remaining time and sends SUCCESS or FAILED in
every case. Reasons are short, never carry secrets, and point to the log stream for details.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from handler.core.retry import Again, RetryPolicy, retry
from handler.observability import logger

Status = Literal["SUCCESS", "FAILED"]

# The AWS clients of custom resources: short timeouts and few retries, so that a call ends well within the
# deadline `answer` keeps.
AWS_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})

# The whole response body must stay under 4 KB; the reason is the only open-ended field.
MAX_REASON = 1000
# Sending the answer: three attempts with pauses of 1 and 2 s between them, each waiting at most this long.
RESPONSE_POLICY = RetryPolicy(attempts=3, pauses=(1.0, 2.0))
RESPONSE_TIMEOUT_SECONDS = 4.0
# Seconds kept back from the function's remaining time to send the answer when the work overruns: the longest
# the sending can take, and two more, so that even a ResponseURL that never answers is tried every time before
# Lambda ends the function.
ANSWER_MARGIN_SECONDS = RESPONSE_POLICY.attempts * RESPONSE_TIMEOUT_SECONDS + RESPONSE_POLICY.longest + 2.0


class NotAccepted(Exception):
    """The ResponseURL did not take the answer (an error status, or no connection)."""


class ResourceFailed(Exception):
    """The work failed for a reason that is safe to show in the stack's events (no secrets)."""


@dataclass(frozen=True)
class Outcome:
    """What a successful Create/Update/Delete returns to CloudFormation (Data is readable with Fn::GetAtt)."""

    physical_resource_id: str
    reason: str = ""
    data: dict[str, str] = field(default_factory=dict)


Work = Callable[[CloudFormationCustomResourceEvent], Outcome]


def stack_name(stack_id: str) -> str:
    """`arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>` -> `<name>`."""
    parts = stack_id.split("/")
    return parts[1] if len(parts) >= 3 else stack_id


def default_physical_id(request: CloudFormationCustomResourceEvent) -> str:
    """The id CloudFormation already knows (Update, Delete), else one derived from the stack and logical id."""
    return request.physical_resource_id or f"{stack_name(request.stack_id)}-{request.logical_resource_id}"


def response_body(
    event: dict[str, Any],
    status: Status,
    reason: str,
    physical_resource_id: str,
    data: dict[str, str] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "Status": status,
        "Reason": reason[:MAX_REASON],
        "PhysicalResourceId": physical_resource_id,
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": data or {},
    }
    return json.dumps(body).encode()


def send_response(url: str, body: bytes, *, sleep: Callable[[float], None] = time.sleep) -> bool:
    """PUT the answer to the pre-signed URL (empty Content-Type, as S3 signed it). True once accepted."""
    if not url.startswith(("https://", "http://")):
        logger.error("ResponseURL is not an HTTP(S) URL; CloudFormation cannot be answered")
        return False

    attempts = iter(range(1, RESPONSE_POLICY.attempts + 1))

    def put() -> None:
        attempt = next(attempts)
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked above
                status = response.status
        except (urllib.error.URLError, OSError) as error:
            logger.warning(
                "CloudFormation response could not be sent",
                extra={"attempt": attempt, "error": type(error).__name__},
            )
            raise NotAccepted(type(error).__name__) from error
        if not 200 <= status < 300:
            logger.warning("CloudFormation response not accepted", extra={"attempt": attempt, "status": status})
            raise NotAccepted(f"HTTP {status}")

    def again(error: Exception) -> Again | Exception:
        return Again(error) if isinstance(error, NotAccepted) else error

    try:
        retry(put, RESPONSE_POLICY, again, sleep)
    except NotAccepted:
        return False
    return True


def answer(event: dict[str, Any], context: LambdaContext, work: Work) -> Status | None:
    """Run `work` for a custom resource request and answer CloudFormation whatever happens.

    Returns the status sent (None when the event cannot be answered at all: no ResponseURL).
    """
    request = CloudFormationCustomResourceEvent(event)
    if not isinstance(event.get("ResponseURL"), str):
        logger.error("not a CloudFormation custom resource request (no ResponseURL); nothing to answer")
        return None
    logger.append_keys(
        request_type=event.get("RequestType"),
        logical_resource_id=event.get("LogicalResourceId"),
        stack_id=event.get("StackId"),
    )
    status: Status = "FAILED"
    physical_id = ""
    data: dict[str, str] = {}
    try:
        physical_id = default_physical_id(request)
        budget = max(context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS, 1.0)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custom-resource")
        future = pool.submit(work, request)
        pool.shutdown(wait=False)
        try:
            outcome = future.result(timeout=budget)
        except TimeoutError:
            if future.done():
                raise
            raise ResourceFailed(f"no result within {budget:.0f} s; see log stream {context.log_stream_name}") from None
        status, reason, physical_id, data = "SUCCESS", outcome.reason, outcome.physical_resource_id, outcome.data
    except ResourceFailed as error:
        logger.error("custom resource request failed", extra={"reason": str(error)})
        reason = str(error)
    except Exception as error:
        # The message of an unexpected exception may carry anything; it goes to the log, not to CloudFormation.
        logger.exception("custom resource request failed unexpectedly")
        reason = f"unexpected {type(error).__name__}; see log stream {context.log_stream_name}"
    physical_id = physical_id or f"{stack_name(str(event.get('StackId', '')))}-{event.get('LogicalResourceId', '')}"
    if status == "FAILED" and event.get("RequestType") == "Delete":
        # A FAILED delete leaves the stack in DELETE_FAILED, which only a retained resource gets out of. Nothing
        # the resource holds outlives the stack in a harmful way (Telegram keeps posting to a URL that is gone),
        # so the delete succeeds and the reason says what was left.
        status, reason = "SUCCESS", f"deleted; clean-up incomplete: {reason}"
    body = response_body(event, status, reason or status, physical_id, data)
    sent = send_response(event["ResponseURL"], body)
    logger.info("answered CloudFormation", extra={"status": status, "reason": reason, "delivered": sent})
    return status
