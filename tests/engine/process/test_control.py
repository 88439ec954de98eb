"""The control channel: authenticated JSON commands to the running instance, never pickle."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import socket
import struct
import threading

import pytest

import engine.process.control as control
from engine.process.control import ControlError, ControlServer, send_command
from tests.helpers import wait_until


@pytest.fixture
def server(tmp_path):
    calls = []
    srv = ControlServer(tmp_path / "control.json", {
        "echo": lambda req: calls.append(req) or {"echo": req.get("value")},
        "boom": lambda req: 1 / 0,
    })
    srv.start()
    yield srv, calls, tmp_path / "control.json"
    srv.close()


class _Marker:
    """Unpickling this creates a file: proof that the server evaluated pickle data."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _frame(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_frame(sock: socket.socket) -> dict:
    size = struct.unpack(">I", _recv_exactly(sock, 4))[0]
    return json.loads(_recv_exactly(sock, size))


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("closed")
        data += chunk
    return data


def _authenticated(path) -> socket.socket:
    """A raw connection that passed the handshake with the real key."""
    data = json.loads(path.read_text())
    sock = socket.create_connection((data["host"], data["port"]), timeout=5)
    hello = _read_frame(sock)
    proof = hmac.new(bytes.fromhex(data["key"]), bytes.fromhex(hello["nonce"]), hashlib.sha256).hexdigest()
    sock.sendall(_frame(json.dumps({"auth": proof, "nonce": "00" * 32}).encode()))
    assert _read_frame(sock)["ok"] is True
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def test_command_round_trip(server):
    _, calls, path = server
    assert send_command(path, "echo", value=42)["echo"] == 42
    assert calls == [{"command": "echo", "value": 42}]


def test_control_file_is_private_and_removed_on_close(server):
    srv, _, path = server
    assert path.stat().st_mode & 0o077 == 0
    srv.close()
    assert not path.exists()


def test_unknown_command_and_failing_handler_give_errors_not_crashes(server):
    _, _, path = server
    with pytest.raises(ControlError, match=r"unknown command 'nope' \(known: boom, echo\)"):
        send_command(path, "nope")
    with pytest.raises(ControlError, match="division by zero"):
        send_command(path, "boom")
    assert send_command(path, "echo", value=1)["echo"] == 1  # still serving


def test_wrong_key_is_refused(server):
    _, calls, path = server
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "key": "ab" * 32}))
    with pytest.raises(ControlError, match="authentication failed"):
        send_command(path, "echo", value="intruder")
    path.write_text(json.dumps(data))
    assert calls == []
    assert send_command(path, "echo", value=2)["echo"] == 2


def test_pickle_from_a_client_holding_the_key_is_never_unpickled(server, tmp_path):
    from multiprocessing.connection import Client

    _, calls, path = server
    data = json.loads(path.read_text())
    marker = tmp_path / "pwned"
    # The old channel's own client (pickle after an HMAC handshake) cannot even complete its handshake ...
    with pytest.raises((AssertionError, EOFError, OSError)), \
            Client((data["host"], data["port"]), authkey=bytes.fromhex(data["key"])) as conn:
        conn.send(_Marker(str(marker)))
    # ... and pickle bytes sent after a valid handshake are a malformed frame, not code.
    with _authenticated(path) as sock:
        sock.sendall(_frame(pickle.dumps(_Marker(str(marker)))))
        reply = _read_frame(sock)
    assert reply["ok"] is False and "malformed frame: not UTF-8 JSON" in reply["error"]
    assert not marker.exists() and calls == []


def test_malformed_and_oversized_frames_get_clear_errors(server):
    _, calls, path = server
    with _authenticated(path) as sock:
        sock.sendall(_frame(b"[1, 2]"))
        assert _read_frame(sock) == {"ok": False, "error": "malformed frame: expected a JSON object"}
    with _authenticated(path) as sock:
        sock.sendall(struct.pack(">I", control.MAX_FRAME + 1))
        assert "exceeds the limit" in _read_frame(sock)["error"]
    with _authenticated(path) as sock:
        sock.sendall(_frame(b'{"command": 7}'))
        assert "unknown command 7" in _read_frame(sock)["error"]
    assert calls == []


def test_an_unauthenticated_client_cannot_make_the_server_read_a_large_frame(server):
    _, _, path = server
    data = json.loads(path.read_text())
    with socket.create_connection((data["host"], data["port"]), timeout=5) as sock:
        _read_frame(sock)
        sock.sendall(struct.pack(">I", control.PRE_AUTH_MAX_FRAME + 1))
        assert wait_until(lambda: _closed_by_server(sock), message="the server to drop the connection")


def test_idle_connections_never_block_commands(server):
    _, _, path = server
    data = json.loads(path.read_text())
    idle = [socket.create_connection((data["host"], data["port"]), timeout=5)
            for _ in range(control.MAX_PENDING * 3)]
    try:
        assert send_command(path, "echo", value="through")["echo"] == "through"
    finally:
        for sock in idle:
            sock.close()


def test_an_idle_connection_is_dropped_after_the_handshake_timeout(server, monkeypatch):
    monkeypatch.setattr(control, "HANDSHAKE_TIMEOUT", 0.2)
    _, _, path = server
    data = json.loads(path.read_text())
    with socket.create_connection((data["host"], data["port"]), timeout=10) as sock:
        _read_frame(sock)  # the challenge; then say nothing
        assert _closed_by_server(sock)


def test_commands_beyond_the_concurrency_cap_are_answered_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(control, "MAX_ACTIVE", 1)
    release, entered = threading.Event(), threading.Event()

    def slow(req):
        entered.set()
        release.wait(10)
        return {}

    srv = ControlServer(tmp_path / "control.json", {"slow": slow, "echo": lambda req: {}})
    srv.start()
    first = threading.Thread(target=send_command, args=(tmp_path / "control.json", "slow"))
    first.start()
    try:
        assert entered.wait(10)
        with pytest.raises(ControlError, match="busy: 1 commands are running"):
            send_command(tmp_path / "control.json", "echo")
    finally:
        release.set()
        first.join(10)
        srv.close()


def test_the_client_refuses_a_server_that_does_not_know_the_key(tmp_path):
    """Whoever took over a stale port cannot pass itself off as the instance."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    (tmp_path / "control.json").write_text(json.dumps({"host": "127.0.0.1", "port": port, "key": "cd" * 32,
                                                        "protocol": control.PROTOCOL}))

    def impostor():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(_frame(json.dumps({"protocol": control.PROTOCOL, "nonce": "11" * 32}).encode()))
            _read_frame(conn)
            conn.sendall(_frame(json.dumps({"ok": True, "auth": "22" * 32}).encode()))

    thread = threading.Thread(target=impostor)
    thread.start()
    try:
        with pytest.raises(ControlError, match="is not this Watchkeeper instance"):
            send_command(tmp_path / "control.json", "stop")
    finally:
        thread.join(10)
        listener.close()


def test_an_instance_of_an_older_version_is_named_with_how_to_end_it(tmp_path):
    (tmp_path / "control.json").write_text(json.dumps({"host": "127.0.0.1", "port": 9, "key": "00", "pid": 4321}))
    with pytest.raises(ControlError, match=r"PID 4321\) is an older version .*\(kill 4321"):
        send_command(tmp_path / "control.json", "stop")


def test_missing_control_file_is_a_clear_error(tmp_path):
    with pytest.raises(ControlError, match="no control channel"):
        send_command(tmp_path / "control.json", "status")
