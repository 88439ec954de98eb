"""`status` through real processes: acknowledged and snoozed alerts counted apart from those needing
attention (the same `alerts` object with and without an instance), the API's URL, and a busy API
port reported by doctor as a PROBLEM (exit 1)."""

from __future__ import annotations

import json
import socket

from engine.process.lifecycle import running_instance
from tests.helpers import cli, start_instance, wait_until


def _status() -> dict:
    return json.loads(cli("status", "--json").stdout)  # exits 1 when not running


def test_acknowledged_and_snoozed_alerts_stop_counting_as_needing_attention(wk_home):
    cli("demo", check=True)
    cli("check", "run", "--all", check=True)
    seeded = [a for a in json.loads(cli("alerts", "--json", check=True).stdout)
              if a["check"] in ("stale_applications", "session_crash", "goal_staleness")]
    total = _status()["alerts"]["attention"]
    cli("alerts", "ack", str(seeded[0]["id"]), check=True)
    cli("alerts", "snooze", str(seeded[1]["id"]), "1d", check=True)
    stopped = _status()["alerts"]
    assert stopped == {"attention": total - 2, "acknowledged": 1, "snoozed": 1}
    proc = start_instance()
    try:
        wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=15)
        running = _status()
        assert running["running"] and running["alerts"] == stopped
        text = cli("status", check=True).stdout
        assert f"Alerts needing attention: {total - 2} (acknowledged 1, snoozed 1)" in text
        port = running["api_url"].rsplit(":", 1)[1]
        assert f"API: http://127.0.0.1:{port}/" in text.splitlines()
    finally:
        cli("stop")
        proc.wait(20)


def test_doctor_reports_a_busy_api_port_as_a_problem(wk_home):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        wk_home.config_file.write_text(f"[api]\nport = {port}\n")
        proc = start_instance()
        try:
            wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=15)
            wait_until(lambda: any("busy" in r for r in _status().get("reasons", [])), timeout=15,
                       message="the busy port in the health reasons")
            doctor = cli("doctor")
            assert doctor.returncode == 1
            assert any(line.startswith("PROBLEM health: API port") and "busy" in line
                       for line in doctor.stdout.splitlines()), doctor.stdout
        finally:
            cli("stop")
            proc.wait(20)
