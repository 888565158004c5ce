"""Factories for Telegram updates and for the events the functions get, each made from its stored event in
tests/events/ (API Gateway's, the worker's job, Lambda's on-failure record, CloudFormation's requests)."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.local.cloudformation import CloudFormationResponses

EVENTS = Path(__file__).parent / "events"
_update_ids = itertools.count(int(time.time()) * 100)
_message_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def user(user_id: int = 1001, *, language_code: str = "en", first_name: str = "Ada") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def message_update(
    text: str | None = None,
    *,
    user_id: int = 1001,
    language_code: str = "en",
    chat_id: int | None = None,
    update_id: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An update holding a private-chat message (text, or any other message fields)."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id if chat_id is not None else user_id, "type": "private", "first_name": "Ada"},
        "from": user(user_id, language_code=language_code),
        **fields,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id if update_id is not None else next_update_id(), "message": message}


@cache
def _event_template(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def stored_event(name: str) -> dict[str, Any]:
    """A copy of tests/events/`name`, as stored."""
    return copy.deepcopy(_event_template(name))


def api_gateway_event(
    body: dict[str, Any] | str | bytes,
    *,
    secret: str | None,
    base64_body: bool = True,
    method: str = "POST",
    kind: str = "http-api",
) -> dict[str, Any]:
    """The event API Gateway gives Lambda for a webhook call (the shape `sam local generate-event` prints)."""
    event = stored_event(f"{kind}-webhook.json")
    raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
    event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
    event["isBase64Encoded"] = base64_body
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    if kind == "http-api":
        event["headers"] = {k.lower(): v for k, v in headers.items()}
        event["requestContext"]["http"]["method"] = method
    else:
        event["headers"] = headers
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        event["httpMethod"] = method
    return event


def job_event(**fields: Any) -> dict[str, Any]:
    """The worker's event: the webhook's asynchronous payload (tests/events/worker-job.json), started now (a
    job started long ago is past the async event age, and the worker would not run it), `fields` changed."""
    return {**stored_event("worker-job.json"), "enqueued_at": time.time(), **fields}


def failure_record(job: dict[str, Any]) -> dict[str, Any]:
    """What Lambda sends the worker's on-failure destination when `job`'s invocation failed for good: the
    stored record (tests/events/lambda-destination-failure.json) wrapping `job`."""
    record = stored_event("lambda-destination-failure.json")
    record["requestPayload"] = copy.deepcopy(job)
    return record


def cfn_event(kind: str, responses: CloudFormationResponses, **properties: Any) -> dict[str, Any]:
    """The stored CloudFormation request of `kind` (create/update/delete) with a fresh request id, a local
    ResponseURL, and `properties` overriding its ResourceProperties (and, for an update, its old ones too)."""
    event = stored_event(f"cfn-webhook-{kind}.json")
    request_id = str(uuid.uuid4())
    event["RequestId"] = request_id
    event["ResponseURL"] = responses.url(request_id)
    event["ResourceProperties"].update(properties)
    if "OldResourceProperties" in event:
        event["OldResourceProperties"].update(properties)
    return event
