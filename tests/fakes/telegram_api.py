"""A fake Telegram Bot API server for tests: real HTTP, Bot-API-shaped JSON.

Use it through python-telegram-bot's ``base_url`` (``server.base_url`` is
``http://127.0.0.1:<port>/bot``; PTB appends the token). Everything the client
sends is recorded with its ``time.monotonic()`` arrival time, so tests can assert
behaviour (spacing, retries, payloads) without patching the client.

Features: getMe, sendMessage (with a light HTML-entity check and the 4096-unit
limit), editMessageText, answerCallbackQuery, getUpdates (long poll with a
condition variable), deleteWebhook/getWebhookInfo/close/logOut, setMyCommands/getMyCommands (the menu is kept:
:attr:`commands`);
scripted updates (:meth:`push_command`, :meth:`push_text`, :meth:`push_callback`);
per-method fault queues (:class:`Fault`); :meth:`stop`/:meth:`start` on the same
port to simulate a dead server (open keep-alive connections are cut too).

Like Telegram, a getUpdates that arrives while another one is long-polling terminates
the older one with 409 Conflict ("terminated by other getUpdates request"); see
:attr:`conflicts`. :meth:`flood_every` turns on flood control: after every *K*
accepted sendMessage calls the next one gets 429 with ``retry_after``.

Standalone (for end-to-end tests)::

    python -m tests.fakes.telegram_api --port 8081 --record requests.jsonl

prints one JSON line ``{"port": ..., "base_url": ...}`` when ready, records every
API request as a JSON line, and exposes control endpoints: ``POST /_fake/push``
(``{"kind": "command"|"text"|"callback", "chat_id", "text"|"message_id"+"data"}``),
``POST /_fake/fault`` (``{"method", "kind", ...}`` as :meth:`Fault.from_dict`),
``GET /_fake/messages``, ``GET /_fake/requests``, ``GET /_fake/answers``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import html
import itertools
import json
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Fault", "FakeTelegramServer", "RecordedRequest", "StoredMessage", "main"]

JSON = dict[str, Any]
_DROP = object()  # handler result: close the connection without answering

_STRING_KEYS = frozenset(
    {"text", "callback_query_id", "parse_mode", "data", "url", "caption", "description"}
)
_ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
MAX_TEXT = 4096


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as it arrived: method, decoded params, monotonic arrival time."""

    method: str
    params: JSON
    t: float
    fault: str | None = None


@dataclass
class StoredMessage:
    """A message the bot sent, with everything tests like to assert on."""

    message_id: int
    chat_id: int | str
    text: str
    parse_mode: str | None = None
    disable_notification: bool = False
    reply_markup: JSON | None = None
    reply_to: int | None = None
    edits: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline keyboard flattened to (label, callback_data) pairs."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row]


@dataclass(frozen=True)
class Fault:
    """One injected failure, consumed by the next request of its method.

    Kinds: ``"error"`` (HTTP ``status`` with ``description`` and optional
    ``parameters``), ``"slow"`` (handle normally, answer after ``delay`` s),
    ``"drop"`` (close the connection without an answer).
    """

    kind: str
    status: int = 500
    description: str = "Internal Server Error"
    parameters: JSON | None = None
    delay: float = 0.0

    @classmethod
    def flood(cls, retry_after: int) -> Fault:
        """429 with ``parameters.retry_after``."""
        return cls(
            "error",
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """A 5xx (PTB: NetworkError)."""
        return cls("error", status, "Internal Server Error" if status == 500 else "Bad Gateway")

    @classmethod
    def forbidden(cls) -> Fault:
        """403 "bot was blocked by the user"."""
        return cls("error", 403, "Forbidden: bot was blocked by the user")

    @classmethod
    def chat_not_found(cls) -> Fault:
        """400 "chat not found"."""
        return cls("error", 400, "Bad Request: chat not found")

    @classmethod
    def unauthorized(cls) -> Fault:
        """401 (PTB: InvalidToken)."""
        return cls("error", 401, "Unauthorized")

    @classmethod
    def slow(cls, delay: float) -> Fault:
        """Process the request but answer only after *delay* seconds."""
        return cls("slow", 200, "", None, delay)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def from_dict(cls, spec: JSON) -> Fault:
        """Build from JSON; kind is flood, server_error, forbidden, chat_not_found,
        unauthorized, slow, drop or error (status/description/parameters)."""
        kind = spec.get("kind", "error")
        if kind == "flood":
            return cls.flood(int(spec.get("retry_after", 1)))
        if kind == "server_error":
            return cls.server_error(int(spec.get("status", 500)))
        if kind == "slow":
            return cls.slow(float(spec.get("delay", 1.0)))
        if kind in ("forbidden", "chat_not_found", "unauthorized", "drop"):
            factory: Callable[[], Fault] = getattr(cls, kind)
            return factory()
        return cls(
            "error",
            int(spec.get("status", 500)),
            str(spec.get("description", "Internal Server Error")),
            spec.get("parameters"),
        )

    def label(self) -> str:
        """Short description for the request record."""
        if self.kind == "error":
            return f"{self.status}: {self.description}"
        return f"{self.kind} {self.delay:g}s" if self.kind == "slow" else self.kind


def _decode_params(raw: bytes, content_type: str, query: str) -> JSON:
    params: JSON = {}
    pairs = parse_qsl(query, keep_blank_values=True)
    if raw and "json" in content_type:
        body = json.loads(raw.decode("utf-8"))
        params.update(body if isinstance(body, dict) else {})
    elif raw:
        pairs += parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    for key, value in pairs:
        if key in _STRING_KEYS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _visible_text(text: str, parse_mode: str | None) -> tuple[str, str | None]:
    """Return (text after entity parsing, error) the way Telegram would see it."""
    if (parse_mode or "").upper() != "HTML":
        return text, None
    stack: list[str] = []
    for match in _TAG_RE.finditer(text):
        closing, tag = match.group(1) == "/", match.group(2).lower()
        if tag not in _ALLOWED_TAGS:
            return text, f'Unsupported start tag "{tag}"'
        if closing:
            if not stack or stack.pop() != tag:
                return text, f'Unexpected end tag "{tag}"'
        else:
            stack.append(tag)
    if stack:
        return text, f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    stripped = _TAG_RE.sub("", text)
    leftover = _ENTITY_RE.sub("", stripped)
    if "<" in leftover or ">" in leftover:
        return text, "Unsupported start tag"
    if "&" in leftover:
        return text, "Character '&' is reserved and must be escaped"
    return html.unescape(stripped), None


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeTelegramServer) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Silence the default stderr access log (it would print the token)."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        fake = self.server.fake
        try:
            params = _decode_params(raw, self.headers.get("Content-Type") or "", parts.query)
        except ValueError:
            self._reply(400, {"ok": False, "error_code": 400, "description": "Bad Request"})
            return
        if parts.path.startswith("/_fake/"):
            status, payload = fake._control(self.command, parts.path[len("/_fake/") :], params)
            self._reply(status, payload)
            return
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parts.path)
        if match is None:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        result = fake._api(match.group(1), match.group(2), params)
        if result is _DROP:
            self.close_connection = True
            return
        assert isinstance(result, tuple)
        self._reply(*result)

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # client gave up (timeout) or server stopping


class FakeTelegramServer:
    """Thread-safe fake Bot API on 127.0.0.1; state survives :meth:`stop`/:meth:`start`.

    Args:
        port: 0 for a random free port (kept across restarts once bound).
        token: if set, other tokens get 401 Unauthorized.
        record_path: append every API request as a JSON line to this file.
        known_chats: if set, sendMessage to other chats fails with "chat not found".
    """

    def __init__(
        self,
        port: int = 0,
        *,
        token: str | None = None,
        record_path: str | None = None,
        known_chats: set[int | str] | None = None,
        bot_username: str = "watchkeeper_test_bot",
    ) -> None:
        self.port = port
        self.host = "127.0.0.1"
        self._token = token
        self._known_chats = {str(c) for c in known_chats} if known_chats is not None else None
        bot_id = int(token.split(":", 1)[0]) if token and token.split(":", 1)[0].isdigit() else 1
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Watchkeeper Test",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._cond = threading.Condition(threading.RLock())
        self._requests: list[RecordedRequest] = []
        self._messages: dict[int, StoredMessage] = {}
        self._answers: dict[str, str | None] = {}
        self._updates: list[JSON] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._poll_generation = 0  # bumped by every getUpdates: older long polls end with 409
        self.conflicts = 0  # getUpdates answered 409 because another poller came
        self.commands: list[JSON] = []  # the bot's command menu, as setMyCommands last set it
        self._flood: tuple[int, int] | None = None  # (K sends allowed, retry_after)
        self._flood_count = 0
        self._down = threading.Event()
        self._down.set()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._record: TextIO | None = (
            open(record_path, "a", encoding="utf-8", buffering=1) if record_path else None  # noqa: SIM115
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """The PTB ``base_url`` for this server (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    def start(self) -> FakeTelegramServer:
        """Listen (again) on ``port``; a restart reuses the port bound the first time."""
        if self._httpd is not None:
            return self
        self._httpd = _Server((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._down.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-telegram-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open connections: clients see connection refused/reset."""
        httpd, self._httpd = self._httpd, None
        self._down.set()
        with self._cond:
            self._cond.notify_all()
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5.0)

    def close(self) -> None:
        """Stop and close the record file."""
        self.stop()
        if self._record is not None:
            self._record.close()
            self._record = None

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ------------------------------------------------------------------ test API

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request so far, in arrival order (a copy)."""
        with self._cond:
            return list(self._requests)

    def requests_for(self, method: str) -> list[RecordedRequest]:
        """Requests of one API method, in arrival order."""
        with self._cond:
            return [r for r in self._requests if r.method == method]

    @property
    def messages(self) -> list[StoredMessage]:
        """Messages the bot sent, by message id (copies)."""
        with self._cond:
            return [copy.deepcopy(m) for _, m in sorted(self._messages.items())]

    def message(self, message_id: int | str) -> StoredMessage | None:
        """One stored message (a copy), or None."""
        with self._cond:
            found = self._messages.get(int(message_id))
            return copy.deepcopy(found) if found else None

    @property
    def answers(self) -> dict[str, str | None]:
        """answerCallbackQuery texts by callback query id."""
        with self._cond:
            return dict(self._answers)

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates with a higher offset."""
        with self._cond:
            return len(self._updates)

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (on a condition, no polling) until *predicate* is true; False on timeout."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_requests(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait for *count* requests of *method*; raise TimeoutError otherwise."""
        if not self.wait_for(lambda: len(self.requests_for(method)) >= count, timeout):
            seen = [r.method for r in self.requests]
            raise TimeoutError(f"expected {count} x {method} within {timeout}s; saw {seen}")
        return self.requests_for(method)

    def add_fault(self, method: str, fault: Fault, times: int = 1) -> None:
        """Queue *fault* for the next *times* requests of *method* (``"*"``: any method)."""
        with self._cond:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    def flood_every(self, sends: int, retry_after: int) -> None:
        """Flood control: after every *sends* accepted sendMessage calls, the next gets 429
        with *retry_after*; the count restarts after each 429. ``sends=0`` turns it off."""
        with self._cond:
            self._flood = (sends, retry_after) if sends > 0 else None
            self._flood_count = 0

    def push_text(self, chat_id: int, text: str, *, user_id: int | None = None) -> int:
        """Queue a private/group text message from a user; return its update id."""
        message = self._incoming_message(chat_id, text, user_id)
        return self._push_update({"message": message})

    def push_command(self, chat_id: int, command: str, *, user_id: int | None = None) -> int:
        """Queue a "/command args" message (with its bot_command entity)."""
        message = self._incoming_message(chat_id, command, user_id)
        first = command.split()[0] if command.split() else command
        if first.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(first)}]
        return self._push_update({"message": message})

    def push_callback(
        self, chat_id: int, message_id: int | str, data: str, *, user_id: int | None = None
    ) -> str:
        """Queue a button press on *message_id*; return the callback query id."""
        callback_id = f"cb{next(self._callback_ids)}"
        with self._cond:
            stored = self._messages.get(int(message_id))
            message = (
                self._message_json(stored)
                if stored
                else {
                    "message_id": int(message_id),
                    "date": int(time.time()),
                    "chat": self._chat_json(chat_id),
                }
            )
        message["chat"] = self._chat_json(chat_id)
        self._push_update(
            {
                "callback_query": {
                    "id": callback_id,
                    "from": self._user_json(user_id or chat_id),
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": message,
                }
            }
        )
        return callback_id

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _chat_json(chat_id: int | str) -> JSON:
        numeric = int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0
        if numeric > 0:
            return {"id": numeric, "type": "private", "first_name": "Tester"}
        return {"id": numeric, "type": "supergroup", "title": "Test group"}

    @staticmethod
    def _user_json(user_id: int | str) -> JSON:
        return {"id": abs(int(user_id)), "is_bot": False, "first_name": "Tester"}

    def _incoming_message(self, chat_id: int, text: str, user_id: int | None) -> JSON:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            "from": self._user_json(user_id or chat_id),
            "text": text,
        }

    def _push_update(self, body: JSON) -> int:
        with self._cond:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **body})
            self._cond.notify_all()
        return update_id

    def _message_json(self, m: StoredMessage) -> JSON:
        data: JSON = {
            "message_id": m.message_id,
            "date": int(time.time()),
            "chat": self._chat_json(m.chat_id),
            "from": self.bot_user,
            "text": m.text,
        }
        if m.reply_markup:
            data["reply_markup"] = m.reply_markup
        return data

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method, "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _api(self, token: str, method: str, params: JSON) -> tuple[int, JSON] | object:
        with self._cond:
            fault = self._take_fault(method)
            label = fault.label() if fault else None
            record = RecordedRequest(method, params, time.monotonic(), label)
            self._requests.append(record)
            if self._record is not None:
                self._record.write(json.dumps(asdict(record)) + "\n")
            self._cond.notify_all()
        if self._token is not None and token != self._token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if fault is not None and fault.kind == "drop":
            return _DROP
        if fault is not None and fault.kind == "error":
            payload: JSON = {
                "ok": False,
                "error_code": fault.status,
                "description": fault.description,
            }
            if fault.parameters:
                payload["parameters"] = fault.parameters
            return fault.status, payload
        result = self._dispatch(method, params)
        if fault is not None and fault.kind == "slow" and self._down.wait(fault.delay):
            return _DROP
        return result

    def _dispatch(self, method: str, params: JSON) -> tuple[int, JSON] | object:
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        result: tuple[int, JSON] | object = handler(params)
        return result

    @staticmethod
    def _ok(result: Any) -> tuple[int, JSON]:
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _bad(description: str, status: int = 400) -> tuple[int, JSON]:
        return status, {"ok": False, "error_code": status, "description": description}

    def _m_getMe(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802 - Bot API name
        return self._ok(self.bot_user)

    def _flooded(self) -> tuple[int, JSON] | None:
        """The 429 of flood mode when this send is over the allowance (call under the lock)."""
        if self._flood is None:
            return None
        sends, retry_after = self._flood
        if self._flood_count < sends:
            self._flood_count += 1
            return None
        self._flood_count = 0
        return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
                     "parameters": {"retry_after": retry_after}}

    def _m_sendMessage(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        chat_id, text = params.get("chat_id"), params.get("text")
        if chat_id in (None, ""):
            return self._bad("Bad Request: chat_id is empty")
        if not text:
            return self._bad("Bad Request: message text is empty")
        if self._known_chats is not None and str(chat_id) not in self._known_chats:
            return self._bad("Bad Request: chat not found")
        visible, error = _visible_text(str(text), params.get("parse_mode"))
        if error:
            return self._bad(f"Bad Request: can't parse entities: {error}")
        if _units(visible) > MAX_TEXT:
            return self._bad("Bad Request: message is too long")
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        with self._cond:
            flooded = self._flooded()
            if flooded is not None:
                return flooded
            stored = StoredMessage(
                message_id=next(self._message_ids),
                chat_id=chat_id,
                text=str(text),
                parse_mode=params.get("parse_mode"),
                disable_notification=bool(params.get("disable_notification")),
                reply_markup=params.get("reply_markup") or None,
                reply_to=reply_to if reply_to is not None else params.get("reply_to_message_id"),
            )
            self._messages[stored.message_id] = stored
            self._cond.notify_all()
            return self._ok(self._message_json(stored))

    def _m_editMessageText(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        text = params.get("text")
        if not text:
            return self._bad("Bad Request: message text is empty")
        _, error = _visible_text(str(text), params.get("parse_mode"))
        if error:
            return self._bad(f"Bad Request: can't parse entities: {error}")
        with self._cond:
            stored = self._messages.get(int(params.get("message_id") or 0))
            if stored is None or str(stored.chat_id) != str(params.get("chat_id")):
                return self._bad("Bad Request: message to edit not found")
            markup = params.get("reply_markup") or None
            if stored.text == text and stored.reply_markup == markup:
                return self._bad(
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            stored.edits.append(stored.text)
            stored.text, stored.reply_markup = str(text), markup
            stored.parse_mode = params.get("parse_mode")
            self._cond.notify_all()
            return self._ok(self._message_json(stored))

    def _m_answerCallbackQuery(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        with self._cond:
            self._answers[str(params.get("callback_query_id"))] = params.get("text")
            self._cond.notify_all()
        return self._ok(True)

    def _m_getUpdates(self, params: JSON) -> tuple[int, JSON] | object:  # noqa: N802
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._cond:
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older long poll sees it was superseded
            if isinstance(offset, int) and offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                if self._down.is_set():
                    return _DROP
                if generation != self._poll_generation:
                    self.conflicts += 1
                    self._cond.notify_all()
                    return self._bad("Conflict: terminated by other getUpdates request; make sure that only "
                                     "one bot instance is running", 409)
                ready = self._updates[:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return self._ok(ready)
                self._cond.wait(remaining)

    def _m_getWebhookInfo(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        return self._ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})

    def _m_deleteWebhook(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        return self._ok(True)

    def _m_setMyCommands(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
                isinstance(c, dict) and re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", "")))
                and 1 <= len(str(c.get("description", ""))) <= 256 for c in commands):
            return self._bad("Bad Request: invalid commands")
        with self._cond:
            self.commands = [{"command": c["command"], "description": c["description"]} for c in commands]
        return self._ok(True)

    def _m_getMyCommands(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        with self._cond:
            return self._ok(copy.deepcopy(self.commands))

    def _m_close(self, params: JSON) -> tuple[int, JSON]:
        return self._ok(True)

    def _m_logOut(self, params: JSON) -> tuple[int, JSON]:  # noqa: N802
        return self._ok(True)

    def _control(self, verb: str, action: str, params: JSON) -> tuple[int, Any]:
        """Control endpoints for the standalone mode (not recorded as API requests)."""
        if action == "push":
            kind, chat_id = params.get("kind", "command"), int(params["chat_id"])
            if kind == "callback":
                return 200, {
                    "callback_id": self.push_callback(
                        chat_id, int(params["message_id"]), str(params["data"])
                    )
                }
            push = self.push_text if kind == "text" else self.push_command
            return 200, {"update_id": push(chat_id, str(params["text"]))}
        if action == "fault":
            spec = dict(params)
            self.add_fault(
                str(spec.pop("method", "*")), Fault.from_dict(spec), int(spec.get("times", 1))
            )
            return 200, {"ok": True}
        if action == "messages":
            return 200, [asdict(m) for m in self.messages]
        if action == "requests":
            return 200, [asdict(r) for r in self.requests]
        if action == "answers":
            return 200, self.answers
        return 404, {"ok": False, "description": f"unknown control action {verb} {action}"}


def main(argv: list[str] | None = None) -> int:
    """Run the fake until SIGTERM/SIGINT; print {"port", "base_url"} when ready."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", default=None, help="append requests as JSON lines here")
    parser.add_argument("--token", default=None, help="accept only this token")
    args = parser.parse_args(argv)
    server = FakeTelegramServer(args.port, token=args.token, record_path=args.record).start()
    done = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(json.dumps({"port": server.port, "base_url": server.base_url}), flush=True)
    while not done.wait(0.5):
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
