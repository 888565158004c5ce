"""A keep-alive HTTP/1.1 front on loopback for a local server, able to close every client connection at once.

DynamoDB's endpoint keeps connections alive, and servers close idle ones while a Lambda execution environment
is frozen: the client finds out only when it next uses them. The local DynamoDB server keeps connections alive
but runs in a process of its own that cannot be told to close them; this front relays each request to it and
keeps the client's connection open, and `drop_connections()` plays the server closing idle connections, without
restarting the server (which would lose the tables).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Headers about one connection, not the message (RFC 9110, 7.6.1): never relayed.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class KeepAliveProxy:
    """Relays HTTP requests on `url` to `target` (host, port), keeping client connections alive."""

    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self._server = _Server((host, 0), _Handler)
        self._server.target = target
        self._thread = threading.Thread(target=self._server.serve_forever, name="keep-alive-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def connections_opened(self) -> int:
        """How many client connections were accepted so far."""
        return self._server.accepted

    def start(self) -> KeepAliveProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.drop_connections()

    def drop_connections(self) -> int:
        """Close every open client connection, as a server closes idle keep-alive connections; returns how many."""
        with self._server.lock:
            connections = list(self._server.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return len(connections)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    target: tuple[str, int]

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.accepted = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)
            self.server.accepted += 1

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.server.target, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay
