"""The control channel: authenticated commands to the running instance."""

from __future__ import annotations

import json
from multiprocessing.connection import Client

import pytest

from engine.control import ControlError, ControlServer, send_command


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
    with pytest.raises(ControlError, match="unknown command 'nope'"):
        send_command(path, "nope")
    with pytest.raises(ControlError, match="division by zero"):
        send_command(path, "boom")
    assert send_command(path, "echo", value=1)["echo"] == 1  # still serving


def test_wrong_key_is_refused(server):
    _, calls, path = server
    data = json.loads(path.read_text())
    from multiprocessing import AuthenticationError

    with pytest.raises((AuthenticationError, EOFError, ConnectionError)), \
            Client((data["host"], data["port"]), authkey=b"wrong" * 8) as conn:
        conn.send({"command": "echo", "value": "intruder"})
    assert calls == []
    assert send_command(path, "echo", value=2)["echo"] == 2


def test_missing_control_file_is_a_clear_error(tmp_path):
    with pytest.raises(ControlError, match="no control channel"):
        send_command(tmp_path / "control.json", "status")
