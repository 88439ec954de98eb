"""The running instance's control channel: how `watchkeeper stop`, `check run`, `pause` and the
other CLI commands reach the instance, on every OS.

A TCP listener on 127.0.0.1; its port and a random 32-byte key are in ``control.json`` in the
data dir, private to the user from its first byte. One connection carries one command:

1. server -> client: ``{"protocol": PROTOCOL, "nonce": hex}`` (32 random bytes)
2. client -> server: ``{"auth": hex(HMAC-SHA256(key, nonce)), "nonce": hex}`` (the client's own nonce)
3. server -> client: ``{"ok": true, "auth": hex(HMAC-SHA256(key, "server" + client nonce))}``,
   so the client knows it talks to the instance and not to whoever took a stale port
4. client -> server: the request ``{"command": NAME, ...params}``; server -> client: the reply.

Every message is a frame: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Frames
are capped (4 KiB before authentication, 1 MiB after); nothing received is ever unpickled or
evaluated, and only the commands the engine registered exist. The handshake and the request read
have a deadline (5 s); each connection has its own thread, so a slow client never blocks another.
At most MAX_PENDING connections may sit in the handshake: a new one pushes out the oldest, so
idle connections from anyone cannot lock the user out. At most MAX_ACTIVE authenticated commands
run at once; more are answered "busy" at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import struct
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.privatefile import write_private_file

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]

PROTOCOL = "watchkeeper-control/1"
HOST = "127.0.0.1"
HANDSHAKE_TIMEOUT = 5.0  # seconds for the whole handshake, and again for reading the request
PRE_AUTH_MAX_FRAME = 4096
MAX_FRAME = 1024 * 1024
MAX_PENDING = 32
MAX_ACTIVE = 16
_HEADER = struct.Struct(">I")
_SERVER_PROOF_PREFIX = b"server"


class ControlError(Exception):
    """The instance could not be reached or refused the command."""


class _ProtocolError(Exception):
    """A peer broke the protocol: bad frame, too large, too slow, failed authentication."""


def _client_proof(key: bytes, server_nonce: bytes) -> str:
    return hmac.new(key, server_nonce, hashlib.sha256).hexdigest()


def _server_proof(key: bytes, client_nonce: bytes) -> str:
    return hmac.new(key, _SERVER_PROOF_PREFIX + client_nonce, hashlib.sha256).hexdigest()


# -- framing ---------------------------------------------------------------------------------------


def _send_frame(sock: socket.socket, message: dict[str, Any]) -> None:
    payload = json.dumps(message, ensure_ascii=False, default=str).encode("utf-8")
    if len(payload) > MAX_FRAME:
        raise _ProtocolError(f"message of {len(payload)} bytes exceeds the limit of {MAX_FRAME}")
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _same_digest(received: object, expected: str) -> bool:
    return isinstance(received, str) and hmac.compare_digest(received.encode(), expected.encode())


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out")
            sock.settimeout(remaining)
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv_frame(sock: socket.socket, max_size: int, deadline: float | None) -> dict[str, Any]:
    """One JSON-object frame; _ProtocolError when it is too large or not a JSON object."""
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    if size > max_size:
        raise _ProtocolError(f"frame of {size} bytes exceeds the limit of {max_size}")
    try:
        message = json.loads(_recv_exact(sock, size, deadline).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _ProtocolError(f"malformed frame: not UTF-8 JSON ({exc})") from exc
    if not isinstance(message, dict):
        raise _ProtocolError("malformed frame: expected a JSON object")
    return message


def _hex_field(message: dict[str, Any], name: str, size: int) -> bytes:
    value = message.get(name)
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise _ProtocolError(f"malformed handshake: {name!r} must be {size} bytes of hex")
    return raw


# -- server ----------------------------------------------------------------------------------------


class ControlServer:
    """Serves the registered commands for the running instance until ``close()``."""

    def __init__(self, control_file: Path, handlers: dict[str, Handler]):
        self._file = control_file
        self._handlers = dict(handlers)
        self._key = secrets.token_bytes(32)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if sys.platform == "win32":  # otherwise Windows lets another socket bind the same port
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        self._sock.bind((HOST, 0))
        self._sock.listen(64)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._pending: OrderedDict[socket.socket, None] = OrderedDict()  # in the handshake, oldest first
        self._active = 0
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return host, port

    def start(self) -> None:
        """Publish the address and key (private from the first byte), then accept in a daemon thread."""
        host, port = self.address
        write_private_file(self._file, json.dumps({"host": host, "port": port, "key": self._key.hex(),
                                                   "pid": os.getpid(), "protocol": PROTOCOL}))
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._closed.is_set():
                    return
                log.debug("control: accept failed", exc_info=True)
                time.sleep(0.1)  # out of file handles: let some close instead of spinning
                continue
            with self._lock:
                if len(self._pending) >= MAX_PENDING:
                    oldest, _ = self._pending.popitem(last=False)
                    _shutdown(oldest)  # its thread wakes up, fails and closes it
                self._pending[conn] = None
            try:
                threading.Thread(target=self._handle, args=(conn,), name="control-conn", daemon=True).start()
            except RuntimeError:  # cannot start a thread: drop this connection, keep serving
                with self._lock:
                    self._pending.pop(conn, None)
                conn.close()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                authenticated = self._handshake(conn)
            except (_ProtocolError, OSError, EOFError) as exc:
                log.debug("control: dropped a connection in the handshake: %s", exc)
                authenticated = False
            finally:
                with self._lock:
                    evicted = self._pending.pop(conn, "evicted") == "evicted"
            if not authenticated or evicted:
                return
            with self._lock:
                busy = self._active >= MAX_ACTIVE
                if not busy:
                    self._active += 1
            try:
                self._serve_request(conn, busy)
            except (OSError, EOFError):
                pass
            finally:
                if not busy:
                    with self._lock:
                        self._active -= 1

    def _handshake(self, conn: socket.socket) -> bool:
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        nonce = secrets.token_bytes(32)
        conn.settimeout(HANDSHAKE_TIMEOUT)
        _send_frame(conn, {"protocol": PROTOCOL, "nonce": nonce.hex()})
        answer = _recv_frame(conn, PRE_AUTH_MAX_FRAME, deadline)
        if not _same_digest(answer.get("auth"), _client_proof(self._key, nonce)):
            log.warning("control: refused a connection that failed authentication")
            _send_frame(conn, {"ok": False, "error": "authentication failed"})
            return False
        client_nonce = _hex_field(answer, "nonce", 32)
        _send_frame(conn, {"ok": True, "auth": _server_proof(self._key, client_nonce)})
        return True

    def _serve_request(self, conn: socket.socket, busy: bool) -> None:
        try:
            request = _recv_frame(conn, MAX_FRAME, time.monotonic() + HANDSHAKE_TIMEOUT)
        except _ProtocolError as exc:
            _send_frame(conn, {"ok": False, "error": str(exc)})
            return
        conn.settimeout(None)  # the command may take long (check run); the client has its own timeout
        command = request.get("command")
        handler = self._handlers.get(command) if isinstance(command, str) else None
        if handler is None:
            known = ", ".join(sorted(self._handlers))
            _send_frame(conn, {"ok": False, "error": f"unknown command {command!r} (known: {known})"})
            return
        if busy:
            _send_frame(conn, {"ok": False, "error": f"busy: {MAX_ACTIVE} commands are running; try again"})
            return
        try:
            reply = {"ok": True, **handler(request)}
        except Exception as exc:  # a failing handler answers with its error, never kills the server
            log.exception("control command %s failed", command)
            reply = {"ok": False, "error": str(exc)}
        conn.settimeout(HANDSHAKE_TIMEOUT)
        try:
            _send_frame(conn, reply)
        except _ProtocolError as exc:
            _send_frame(conn, {"ok": False, "error": f"the reply to {command!r} is too large: {exc}"})

    def close(self) -> None:
        """Stop accepting and remove control.json (if it is still ours)."""
        self._closed.set()
        try:
            data = json.loads(self._file.read_text())
            if data.get("pid") == os.getpid():
                self._file.unlink()
        except (OSError, ValueError):
            pass
        _shutdown(self._sock)  # wakes the blocked accept() on Linux
        self._sock.close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# -- client ----------------------------------------------------------------------------------------


def send_command(control_file: Path, command: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
    """Send one command to the running instance; raises ControlError when it cannot."""
    try:
        data = json.loads(control_file.read_text())
        address = (str(data["host"]), int(data["port"]))
        key = bytes.fromhex(data["key"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ControlError(f"no control channel ({control_file}): {exc}") from exc
    if data.get("protocol") != PROTOCOL:
        pid = data.get("pid")
        raise ControlError(f"the running instance (PID {pid}) is an older version with another control channel; "
                           f"end it (kill {pid}, or Task Manager on Windows) and start it again")
    try:
        with socket.create_connection(address, timeout=HANDSHAKE_TIMEOUT) as sock:
            deadline = time.monotonic() + HANDSHAKE_TIMEOUT
            hello = _recv_frame(sock, PRE_AUTH_MAX_FRAME, deadline)
            if hello.get("protocol") != PROTOCOL:
                raise ControlError(f"the instance speaks {hello.get('protocol')!r}, not {PROTOCOL!r}: "
                                   "restart it with this version")
            client_nonce = secrets.token_bytes(32)
            _send_frame(sock, {"auth": _client_proof(key, _hex_field(hello, "nonce", 32)),
                               "nonce": client_nonce.hex()})
            welcome = _recv_frame(sock, PRE_AUTH_MAX_FRAME, deadline)
            if not welcome.get("ok"):
                raise ControlError(f"the instance refused the connection: {welcome.get('error', 'no reason')}")
            if not _same_digest(welcome.get("auth"), _server_proof(key, client_nonce)):
                raise ControlError(f"the process on port {address[1]} is not this Watchkeeper instance")
            try:
                _send_frame(sock, {**params, "command": command})
            except _ProtocolError as exc:
                raise ControlError(f"the command {command!r} is too large to send: {exc}") from exc
            try:
                reply = _recv_frame(sock, MAX_FRAME, time.monotonic() + timeout)
            except TimeoutError as exc:
                raise ControlError(f"the instance did not answer {command!r} within {timeout:.0f} s") from exc
    except _ProtocolError as exc:
        raise ControlError(f"the instance answered something unexpected: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise ControlError(f"cannot reach the running instance: {exc}") from exc
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error", "command failed")))
    return reply
