"""A stand-in for the pre-signed S3 URL a CloudFormation custom resource answers to, on loopback.

It takes PUTs like S3 does for CloudFormation's URL: the body is the JSON answer, and a request whose
Content-Type is not empty is refused with 403 (S3 would answer SignatureDoesNotMatch, since the URL was
signed for an empty one). Tests read what arrived with `wait_for(request_id)`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Answer:
    """One accepted PUT: the path's request id and the decoded body."""

    request_id: str
    body: dict[str, Any]
    content_type: str | None


class CloudFormationResponses:
    """The server. `url(request_id)` is what goes into an event's ResponseURL."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.refused = 0
        self._fail_next = 0
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="cfn-responses", daemon=True)

    def start(self) -> CloudFormationResponses:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, request_id: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/cloudformation-response/{request_id}?X-Amz-Signature=local"

    def fail_next(self, times: int = 1) -> None:
        """Answer the next `times` PUTs with 503, as S3 sometimes does."""
        with self._changed:
            self._fail_next = times

    def wait_for(self, request_id: str, timeout: float = 30.0) -> Answer:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for answer in self.answers:
                    if answer.request_id == request_id:
                        return answer
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no CloudFormation answer for request {request_id}")
                self._changed.wait(left)

    def _receive(self, path: str, content_type: str | None, body: bytes) -> int:
        with self._changed:
            if self._fail_next > 0:
                self._fail_next -= 1
                return 503
            if content_type:
                self.refused += 1
                return 403
            request_id = urlsplit(path).path.rsplit("/", 1)[-1]
            self.answers.append(Answer(request_id, json.loads(body), content_type))
            self._changed.notify_all()
            return 200


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: CloudFormationResponses


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        status = self.server.owner._receive(self.path, self.headers.get("Content-Type"), self.rfile.read(length))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
