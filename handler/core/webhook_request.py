"""Reading a Telegram webhook call out of an API Gateway proxy event (HTTP API v2 or REST API v1)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)
# Telegram's updates are small; anything far bigger is not from Telegram.
MAX_BODY_BYTES = 1_000_000


class NotAnUpdate(ValueError):
    """The request is not a Telegram update."""


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    headers: dict[str, str]
    raw_body: str
    is_base64: bool

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> WebhookRequest:
        http = (event.get("requestContext") or {}).get("http") or {}
        method = http.get("method") or event.get("httpMethod") or ""
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        return cls(
            method=str(method).upper(),
            headers=headers,
            raw_body=event.get("body") or "",
            is_base64=bool(event.get("isBase64Encoded")),
        )

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def update(self) -> dict[str, Any]:
        """The body as a Telegram update (a JSON object with an integer `update_id`)."""
        if len(self.raw_body) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise NotAnUpdate("body too large")
        try:
            raw = self.raw_body
            body = base64.b64decode(raw, validate=True) if self.is_base64 else raw.encode()
            data = json.loads(body.decode("utf-8"))
        except (binascii.Error, UnicodeError, ValueError) as error:
            raise NotAnUpdate("body is not UTF-8 JSON") from error
        if not isinstance(data, dict):
            raise NotAnUpdate("body is not a JSON object")
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
            raise NotAnUpdate("no update_id")
        return data
