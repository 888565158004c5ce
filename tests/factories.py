"""Factories for Telegram updates and the API Gateway events that carry them."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

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


def api_gateway_event(
    body: dict[str, Any] | str | bytes,
    *,
    secret: str | None,
    base64_body: bool = True,
    method: str = "POST",
    kind: str = "http-api",
) -> dict[str, Any]:
    """The event API Gateway gives Lambda for a webhook call (the shape `sam local generate-event` prints)."""
    event = copy.deepcopy(_event_template(f"{kind}-webhook.json"))
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
