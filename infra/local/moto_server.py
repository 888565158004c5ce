"""moto's DynamoDB/SSM backends served with HTTP keep-alive, as the real endpoints are.

``python -m moto.server`` runs on werkzeug's development server, which closes the connection after every
response: each boto3 call would then open a new TCP connection, which neither matches DynamoDB (clients keep
their connections) nor lets a test see what a client does with a pooled connection that went stale. waitress
keeps connections open (and drops idle ones after ``--idle-seconds``, as load balancers do).

DynamoDB applies each request atomically (an UpdateItem's ADD, a conditional write); moto's backends take no
lock, so two requests racing on one item could lose an update that DynamoDB never loses. The server therefore
applies one request at a time (connections stay concurrent), which is what the counters' race test relies on.

    python -m infra.local.moto_server --port 5000
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import serve


def one_at_a_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """The WSGI app, applying one request at a time (each request atomic, as DynamoDB makes it)."""
    lock = threading.Lock()

    def atomic(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return atomic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--idle-seconds", type=int, default=120)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    serve(
        one_at_a_time(app),
        host=args.host,
        port=args.port,
        threads=args.threads,
        channel_timeout=args.idle_seconds,
        connection_limit=1000,
        ident="moto",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
