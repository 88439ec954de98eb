"""The dead-man switch in a real instance: the start ping reaches a real local HTTP server and
`status` shows it with the URL redacted; an unreachable URL never stops the heartbeat, shows as
failed in `status --json` and is a PROBLEM in doctor (exit 1)."""

from __future__ import annotations

import json

from engine.process.lifecycle import running_instance
from tests.conftest import free_port
from tests.fakes.ping_server import PingServer
from tests.helpers import cli, start_instance, wait_until

TOKEN = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"


def _status() -> dict:
    return json.loads(cli("status", "--json").stdout)


def _running(paths) -> bool:
    return bool(running_instance(paths) and paths.control_file.exists())


def test_start_ping_reaches_the_monitor_and_status_shows_it_redacted(wk_home):
    with PingServer() as server:
        with wk_home.config_file.open("a") as f:
            f.write(f'[deadman]\nurl = "{server.url}/{TOKEN}"\ninterval = "10m"\n')
        proc = start_instance()
        try:
            wait_until(lambda: _running(wk_home), timeout=15)
            wait_until(lambda: server.pings, timeout=15, message="the start ping")
            assert (server.pings[0].method, server.pings[0].path) == ("POST", f"/{TOKEN}/start")
            deadman = wait_until(lambda: (_status().get("deadman") or {}).get("last"), timeout=15)
            assert deadman["ok"] and deadman["kind"] == "start"
            full = _status()["deadman"]
            assert full["url"] == f"{server.url}/…" and full["style"] == "healthchecks"
            text = cli("status", check=True).stdout
            assert f"Dead-man switch (healthchecks, {server.url}/…): last start ping sent at" in text
            doctor = cli("doctor").stdout
            assert f"OK      dead-man switch: healthchecks pings to {server.url}/…: last start ping sent at" in doctor
            for shown in (text, doctor, cli("config", "show").stdout):
                assert TOKEN not in shown
        finally:
            cli("stop")
            proc.wait(20)
    assert TOKEN not in wk_home.log_file.read_text()


def test_unreachable_url_keeps_the_heartbeat_and_is_a_doctor_problem(wk_home):
    url = f"http://127.0.0.1:{free_port()}/{TOKEN}"  # nothing listens: every attempt is refused
    with wk_home.config_file.open("a") as f:
        f.write(f'[heartbeat]\ninterval_seconds = 1\n[deadman]\nurl = "{url}"\ninterval = "10s"\n')
    proc = start_instance()
    try:
        wait_until(lambda: _running(wk_home), timeout=15)
        last = wait_until(lambda: (_status().get("deadman") or {}).get("last"), timeout=30,
                          message="the failed start ping (three attempts)")
        assert not last["ok"] and "refused" in last["detail"].lower()
        beat = _status()["last_heartbeat"]
        wait_until(lambda: _status()["last_heartbeat"] != beat, timeout=15, message="a later heartbeat")
        doctor = cli("doctor")
        assert doctor.returncode == 1
        problem = [line for line in doctor.stdout.splitlines() if line.startswith("PROBLEM dead-man switch")]
        assert problem and "FAILED" in problem[0] and "127.0.0.1" in problem[0], doctor.stdout
        assert TOKEN not in doctor.stdout + json.dumps(_status())
    finally:
        cli("stop")
        proc.wait(20)
    assert TOKEN not in wk_home.log_file.read_text()
