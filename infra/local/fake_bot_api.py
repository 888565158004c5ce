"""A fake Telegram Bot API server on loopback, for tests and demos.

It speaks HTTP/1.1 with keep-alive (like api.telegram.org) and Nagle's algorithm off, answers the methods the
bot uses the way Telegram does, records every call (method, parameters, uploaded files), serves files for
`getFile` and the file download URL, and answers with Telegram's errors (400 "message is not modified", 429 with
`retry_after`, 5xx) when a test asks for them. Like Telegram, it refuses to edit the text of a photo it sent,
the caption or picture of a text message it sent, or any message deleted (`deleteMessage`). It can also answer
late (a call carried out, its answer held back past the client's timeout) and drop every open connection (as a
server does with idle keep-alive connections). Point python-telegram-bot at it with `base_url` and
`base_file_url`; nothing in the bot knows it is fake.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

BOT_ID = 7_000_000_001
BOT_USERNAME = "stylebot_test_bot"


@dataclass
class Call:
    """One Bot API request as the server received it."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the server answered (None for an error answer)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str | None:
        value = self.params.get("text")
        return str(value) if value is not None else None

    @property
    def caption(self) -> str | None:
        """The caption of a photo sent, or set by an edit (`editMessageCaption`, or in `editMessageMedia`'s media)."""
        value = self.params.get("caption")
        media = self.params.get("media")
        if value is None and self.method == "editMessageMedia" and media is not None:
            value = (json.loads(media) if isinstance(media, str) else media).get("caption")
        return str(value) if value is not None else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        value = self.params.get("reply_markup")
        if isinstance(value, str):
            parsed: dict[str, Any] = json.loads(value)
            return parsed
        return value if isinstance(value, dict) else None


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int


class FakeBotApi:
    """The server. Start it with `start()`, read `calls`, script failures with `fail_next()`."""

    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.unauthorized_requests = 0
        self.pending_updates: list[dict[str, Any]] = []
        # The command menus set with setMyCommands, by language_code ("" for everyone): (command, description).
        self.commands: dict[str, list[tuple[str, str]]] = {}
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._message_ids = itertools.count(1000)
        # What each message the bot sent holds ("text", "photo", "document"), and the ids of those it deleted.
        self._kinds: dict[int, str] = {}
        self._deleted: set[int] = set()
        self._file_ids = itertools.count(1)
        self._server = _Server((host, port), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True)

    # --- life cycle -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests use ---------------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._delays.clear()
            self.pending_updates.clear()
            self.commands.clear()
            self.unauthorized_requests = 0
            self._kinds.clear()
            self._deleted.clear()

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0) -> list[Call]:
        """Block until `predicate(calls)` holds; returns the calls (raises TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.calls):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met; calls: {[c.method for c in self.calls]}")
                self._changed.wait(left)
            return list(self.calls)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with a Telegram error."""
        with self._lock:
            self._failures.append(_Failure(method, status, description, retry_after, times))

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Carry out the next `times` calls of `method` at once but answer them `seconds` late: what a client
        sees as a timeout although Telegram did what was asked."""
        with self._lock:
            self._delays.append(_Delay(method, seconds, times))

    def drop_connections(self) -> int:
        """Close every open client connection, as a server closes idle keep-alive connections; returns how many."""
        with self._lock:
            connections = list(self._server.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return len(connections)

    @property
    def connections_opened(self) -> int:
        """How many client connections the server has accepted so far."""
        return self._server.accepted

    def queue_update(self, update: dict[str, Any]) -> None:
        """Hold an update for the next getUpdates call (long polling, as in local mode)."""
        with self._lock:
            self.pending_updates.append(update)

    def add_file(self, data: bytes, *, file_unique_id: str | None = None) -> str:
        """Store a file users 'sent'; returns its file_id, which getFile and the download URL then serve."""
        with self._lock:
            file_id = f"FILE{next(self._file_ids):06d}"
            self.files[file_id] = data
        return file_id

    # --- the server side --------------------------------------------------------------------------------------
    def _record(self, call: Call) -> dict[str, Any] | None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
            for failure in self._failures:
                if failure.method == call.method and failure.remaining > 0:
                    failure.remaining -= 1
                    error: dict[str, Any] = {
                        "ok": False,
                        "error_code": failure.status,
                        "description": failure.description,
                    }
                    if failure.retry_after is not None:
                        error["parameters"] = {"retry_after": failure.retry_after}
                    return error
        return None

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        message_id = int(extra.pop("message_id", 0)) or next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Stylebot", "username": BOT_USERNAME},
        }
        if "reply_markup" in params:
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        message.update(extra)
        with self._lock:
            for kind in ("text", "photo", "document"):
                if kind in extra:
                    self._kinds.setdefault(message_id, kind)
        return message

    def _refusal(self, method: str, params: dict[str, Any]) -> str | None:
        """Telegram's description of why it refuses an edit or a deletion of one of the messages the bot sent."""
        message_id = int(params.get("message_id") or 0)
        with self._lock:
            kind = self._kinds.get(message_id)
            if message_id in self._deleted:
                return f"Bad Request: message to {'delete' if method == 'deleteMessage' else 'edit'} not found"
            if method == "deleteMessage":
                self._deleted.add(message_id)
        if kind == "text" and method == "editMessageCaption":
            return "Bad Request: there is no caption in the message to edit"
        if kind == "text" and method == "editMessageMedia":
            return "Bad Request: there is no media in the message to edit"
        if kind in ("photo", "document") and method == "editMessageText":
            return "Bad Request: there is no text in the message to edit"
        return None

    def _delay(self, method: str) -> float:
        with self._lock:
            for delay in self._delays:
                if delay.method == method and delay.remaining > 0:
                    delay.remaining -= 1
                    return delay.seconds
        return 0.0

    def answer(self, method: str, params: dict[str, Any], files: dict[str, bytes]) -> tuple[int, dict[str, Any]]:
        call = Call(method, params, files)
        failure = self._record(call)
        if failure is not None:
            return int(failure["error_code"]), failure
        late = self._delay(method)
        status, body = self._answer(method, params, files)
        call.result = body.get("result")
        time.sleep(late)
        return status, body

    def _set_commands(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """setMyCommands, with Telegram's checks of the commands and their descriptions (default scope only)."""
        raw = params.get("commands", "[]")
        commands = json.loads(raw) if isinstance(raw, str) else raw
        menu = []
        for item in commands:
            command, description = str(item.get("command", "")), str(item.get("description", ""))
            if not _COMMAND.match(command):
                return _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                return _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            menu.append((command, description))
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            return _bad_request("invalid language code specified")
        with self._lock:
            self.commands[language] = menu
        return 200, {"ok": True, "result": True}

    def _answer(self, method: str, params: dict[str, Any], files: dict[str, bytes]) -> tuple[int, dict[str, Any]]:
        result: Any = True
        if method == "getMe":
            result = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Stylebot",
                "username": BOT_USERNAME,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        elif method == "sendMessage":
            result = self._message(params, text=params.get("text", ""))
        elif method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia"):
            refusal = self._refusal(method, params)
            if refusal is not None:
                return 400, {"ok": False, "error_code": 400, "description": refusal}
            if "inline_message_id" in params:
                result = True
            else:
                message_id = int(params.get("message_id", 0))
                if method in ("editMessageCaption", "editMessageMedia"):
                    uid = f"U{next(self._file_ids):06d}"
                    photo = [{"file_id": f"SENT{uid}", "file_unique_id": uid, "width": 1, "height": 1}]
                    caption = Call(method, params).caption
                    result = self._message(params, message_id=message_id, photo=photo, caption=caption)
                else:
                    result = self._message(params, message_id=message_id, text=params.get("text", ""))
                result["edit_date"] = int(time.time())
        elif method == "deleteMessage":
            refusal = self._refusal(method, params)
            if refusal is not None:
                return 400, {"ok": False, "error_code": 400, "description": refusal}
        elif method in ("sendPhoto", "sendDocument"):
            kind = "photo" if method == "sendPhoto" else "document"
            size = len(files.get(kind, b""))
            uid = f"U{next(self._file_ids):06d}"
            media: Any = (
                [{"file_id": f"SENT{uid}", "file_unique_id": uid, "width": 1, "height": 1, "file_size": size}]
                if kind == "photo"
                else {"file_id": f"SENT{uid}", "file_unique_id": uid, "file_size": size}
            )
            result = self._message(params, **{kind: media, "caption": params.get("caption")})
        elif method == "sendMediaGroup":
            media = params.get("media", "[]")
            items = json.loads(media) if isinstance(media, str) else media
            result = []
            for item in items:
                uid = f"U{next(self._file_ids):06d}"
                size = len(files.get(str(item.get("media", "")).removeprefix("attach://"), b""))
                photo = [{"file_id": f"SENT{uid}", "file_unique_id": uid, "width": 1, "height": 1, "file_size": size}]
                result.append(self._message(params, photo=photo, caption=item.get("caption")))
        elif method == "getFile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            result = {
                "file_id": file_id,
                "file_unique_id": f"U{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"photos/{file_id}.jpg",
            }
        elif method == "setMyCommands":
            return self._set_commands(params)
        elif method == "getMyCommands":
            with self._lock:
                menu = self.commands.get(str(params.get("language_code") or ""), [])
            result = [{"command": command, "description": description} for command, description in menu]
        elif method == "getWebhookInfo":
            result = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        elif method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self._lock:
                self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
                result = list(self.pending_updates)
            if not result:
                time.sleep(min(float(params.get("timeout") or 0), 0.2))
        return 200, {"ok": True, "result": result}


_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


def _bad_request(description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: FakeBotApi
    connections: set[socket.socket]
    accepted = 0

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.connections = set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Telegram
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.api._lock:
            self.server.connections.add(self.connection)
            self.server.accepted += 1

    def finish(self) -> None:
        with self.server.api._lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the client may be gone (it gave up waiting for a late answer)
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting (a late answer) or the connection was dropped
            self.close_connection = True

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode())

    def _route(self) -> tuple[str, str, str] | None:
        """(kind, token, rest) for /bot<token>/<method> and /file/bot<token>/<path>."""
        path = unquote(urlsplit(self.path).path)
        for prefix, kind in (("/file/bot", "file"), ("/bot", "api")):
            if path.startswith(prefix):
                token, _, rest = path[len(prefix) :].partition("/")
                return kind, token, rest
        return None

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, body: bytes) -> None:
        api = self.server.api
        route = self._route()
        if route is None:
            self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        kind, token, rest = route
        if token != api.token:
            with api._lock:
                api.unauthorized_requests += 1
            self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        if kind == "file":
            file_id = rest.rsplit("/", 1)[-1].removesuffix(".jpg")
            data = api.files.get(file_id)
            if data is None:
                self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            else:
                self._send(200, data, "application/octet-stream")
            return
        params, files = _parse_params(self.headers.get("Content-Type", ""), body, self.path)
        status, answer = api.answer(rest, params, files)
        self._json(status, answer)


def _parse_params(content_type: str, body: bytes, path: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = dict(parse_qsl(urlsplit(path).query))
    files: dict[str, bytes] = {}
    if content_type.startswith("application/json") and body:
        params.update(json.loads(body))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode()))
    elif content_type.startswith("multipart/form-data"):
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[str(name)] = payload
            else:
                params[str(name)] = payload.decode()
    return params, files
