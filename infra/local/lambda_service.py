"""A loopback stand-in for the Lambda Invoke API, for `AWS_ENDPOINT_URL_LAMBDA`.

`InvocationType=Event` is answered 202 at once and the event is queued; a background thread hands queued events
to the function's target (for example the worker under the Lambda emulator), retrying failures like Lambda's
asynchronous invocation does and passing events that still fail to an on-failure target. Every invocation is
recorded for the tests.

It also answers the control-plane calls of the WorkerCap custom resource, as Lambda does for an account whose
concurrency limit the test sets (`account_limit`): GetAccountSettings, and Get/Put/DeleteFunctionConcurrency,
refusing a reservation that would leave fewer than 100 executions unreserved. `control_plane_down` makes
them all answer 503, as an unavailable service does.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

Target = Callable[[dict[str, Any]], Any]


@dataclass
class Invocation:
    function: str
    invocation_type: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    refused: bool = False


@dataclass
class Route:
    target: Target | None = None
    max_retries: int = 2  # Lambda's default for asynchronous invocations
    retry_delay: float = 0.0
    on_failure: Target | None = None
    #: Reserved concurrency: events beyond it wait in the queue, as Lambda holds throttled async events.
    concurrency: int | None = None
    #: Refuse every invocation, as Lambda's Invoke API does when it throttles the caller (429).
    refuse: bool = False
    _slots: threading.Semaphore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.concurrency is not None:
            self._slots = threading.Semaphore(self.concurrency)


class LocalLambdaService:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.invocations: list[Invocation] = []
        self.routes: dict[str, Route] = {}
        self._lock = threading.Condition()
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.service = self  # type: ignore[attr-defined]
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="lambda-api", daemon=True),
            threading.Thread(target=self._run_queue, name="lambda-async-queue", daemon=True),
        ]
        self.in_flight = 0
        #: The account's concurrency limit (ConcurrentExecutions): 1000 by default, 10 on a new account.
        self.account_limit = 1000
        #: Reserved concurrency per function name, as Put/DeleteFunctionConcurrency leave it.
        self.reserved: dict[str, int] = {}
        self.control_plane_down = False
        #: The control-plane calls made, as (method, path), for the tests.
        self.control_calls: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalLambdaService:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._server.shutdown()
        self._server.server_close()

    def route(self, function: str, route: Route) -> None:
        self.routes[function] = route

    def reset(self) -> None:
        with self._lock:
            self.invocations.clear()

    def account(self, limit: int) -> None:
        """An account with this concurrency limit, nothing reserved yet, its control plane up."""
        with self._lock:
            self.account_limit = limit
            self.reserved.clear()
            self.control_plane_down = False
            self.control_calls.clear()

    def invocations_of(self, function: str) -> list[Invocation]:
        with self._lock:
            return [i for i in self.invocations if i.function == function]

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until every queued event was handled."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.in_flight or not self._queue.empty():
                if not self._lock.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() > deadline:
                    raise TimeoutError("queued events still running")

    # --- server side ------------------------------------------------------------------------------------------
    def _accept(self, function: str, invocation_type: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        route = self.routes.get(function)
        if route is not None and route.refuse:
            with self._lock:
                self.invocations.append(Invocation(function, invocation_type, payload, refused=True))
            return 429, json.dumps(
                {
                    "Type": "User",
                    "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                    "message": "Rate Exceeded.",
                }
            ).encode()
        with self._lock:
            self.invocations.append(Invocation(function, invocation_type, payload))
            if invocation_type == "Event":
                self.in_flight += 1
            self._lock.notify_all()
        if invocation_type == "Event":
            self._queue.put((function, payload))
            return 202, b""
        result = route.target(payload) if route and route.target else None
        return 200, json.dumps(result).encode()

    def _run_queue(self) -> None:
        while (item := self._queue.get()) is not None:
            function, payload = item
            route = self.routes.get(function, Route())
            threading.Thread(target=self._deliver, args=(route, payload), daemon=True).start()

    def _deliver(self, route: Route, payload: dict[str, Any]) -> None:
        if route._slots is not None:
            route._slots.acquire()
        try:
            if route.target is None:
                return
            error: BaseException | None = None
            for attempt in range(route.max_retries + 1):
                try:
                    route.target(payload)
                    return
                except Exception as failure:
                    error = failure
                    if attempt < route.max_retries:
                        time.sleep(route.retry_delay)
            if route.on_failure is not None:
                route.on_failure(_failure_record(payload, error))
        finally:
            if route._slots is not None:
                route._slots.release()
            with self._lock:
                self.in_flight -= 1
                self._lock.notify_all()


# Lambda keeps this much of an account's concurrency unreserved, whatever the functions reserve.
MIN_UNRESERVED = 100


def _control(service: LocalLambdaService, method: str, path: str, body: bytes) -> tuple[int, bytes, str | None]:
    """One control-plane request -> (status, body, error type for X-Amzn-ErrorType)."""
    parts = path.split("?", 1)[0].split("/")
    with service._lock:
        service.control_calls.append((method, path))
        if service.control_plane_down:
            return 503, json.dumps({"Type": "Service", "message": "Service unavailable"}).encode(), "ServiceException"
        unreserved = service.account_limit - sum(service.reserved.values())
        if method == "GET" and path.startswith("/2016-08-19/account-settings"):
            limit = {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": service.account_limit,
                "UnreservedConcurrentExecutions": unreserved,
            }
            usage = {"TotalCodeSize": 0, "FunctionCount": len(service.routes)}
            return 200, json.dumps({"AccountLimit": limit, "AccountUsage": usage}).encode(), None
        # /<version>/functions/<name or ARN>/concurrency
        if len(parts) != 5 or parts[2] != "functions" or parts[4] != "concurrency":
            return 404, b'{"Message": "not found"}', "ResourceNotFoundException"
        function = parts[3].rsplit(":", 1)[-1] if parts[3].startswith("arn:") else parts[3]
        if method == "GET" and parts[1] == "2019-09-30":
            current = service.reserved.get(function)
            answer = {} if current is None else {"ReservedConcurrentExecutions": current}
            return 200, json.dumps(answer).encode(), None
        if method == "DELETE" and parts[1] == "2017-10-31":
            service.reserved.pop(function, None)
            return 204, b"", None
        if method == "PUT" and parts[1] == "2017-10-31":
            wanted = int(json.loads(body or b"{}")["ReservedConcurrentExecutions"])
            if unreserved + service.reserved.get(function, 0) - wanted < MIN_UNRESERVED:
                message = (
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
                )
                return 400, json.dumps({"Type": "User", "message": message}).encode(), "InvalidParameterValueException"
            service.reserved[function] = wanted
            return 200, json.dumps({"ReservedConcurrentExecutions": wanted}).encode(), None
        return 404, b'{"Message": "not found"}', "ResourceNotFoundException"


def _failure_record(payload: dict[str, Any], error: BaseException | None) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination of an asynchronous invocation."""
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        # The function's own error document where there is one (what Lambda passes on), else the failure seen.
        "responsePayload": getattr(error, "document", None)
        or {"errorType": type(error).__name__, "errorMessage": str(error)},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _control(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer, error = _control(self.server.service, method, unquote(self.path), body)  # type: ignore[attr-defined]
        self._send(status, answer, error)

    def do_GET(self) -> None:
        self._control("GET")

    def do_PUT(self) -> None:
        self._control("PUT")

    def do_DELETE(self) -> None:
        self._control("DELETE")

    def do_POST(self) -> None:
        parts = unquote(self.path).split("/")
        # /2015-03-31/functions/<name>/invocations
        if len(parts) < 5 or parts[2] != "functions" or not parts[4].startswith("invocations"):
            self._send(404, b'{"Message": "not found"}')
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b"{}"
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        function = parts[3].rsplit(":", 1)[-1] if parts[3].startswith("arn:") else parts[3]
        status, answer = self.server.service._accept(function, invocation_type, json.loads(body or b"{}"))  # type: ignore[attr-defined]
        self._send(status, answer)

    def _send(self, status: int, body: bytes, error: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status == 429:
            error = "TooManyRequestsException"
        if error is not None:
            self.send_header("X-Amzn-ErrorType", error)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
