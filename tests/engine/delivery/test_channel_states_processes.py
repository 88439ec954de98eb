"""Channel states through real processes: headless without a D-Bus session the toast is
`unavailable` (not `ok`), nothing is recorded as delivered, health is DEGRADED ("no channel can
deliver alerts"), `check run` says where each notification went and `doctor` exits 1; under a real
D-Bus session with notification-daemon the toast is `ok`."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from engine.process.lifecycle import running_instance
from tests.helpers import cli, start_instance, wait_until


@pytest.fixture
def headless(wk_home, monkeypatch):
    """No session bus and no display: nothing can show a toast here."""
    for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    return wk_home


def _status() -> dict:
    return json.loads(cli("status", "--json").stdout)  # exits 1 when not running


def _toast(status: dict) -> dict:
    return next(c for c in status["channels"] if c["name"] == "toast")


def _toast_rows(paths) -> list[tuple[str, str | None]]:
    with sqlite3.connect(paths.db_file) as conn:
        return conn.execute("SELECT o.state, a.error FROM outbox o LEFT JOIN delivery_attempts a"
                            " ON a.outbox_id = o.id WHERE o.channel = 'toast'").fetchall()


def test_without_a_notification_service_the_toast_is_unavailable_and_nothing_counts_as_delivered(headless):
    cli("demo", check=True)
    run = cli("check", "run", "stale_applications", check=True)
    assert "stale_applications: 1 finding(s) -> SENT -> toast (unavailable)" in run.stdout, run.stdout
    rows = _toast_rows(headless)
    assert rows and all(state == "pending" for state, _ in rows)  # kept, with backoff: not sent-and-forgotten
    assert all(error and error.startswith("unavailable: ") for _, error in rows)
    stopped = _status()
    assert _toast(stopped)["state"] == "unavailable"
    assert "no channel can deliver alerts" in stopped["problems"]
    assert stopped["alerts"] == {"attention": 1, "acknowledged": 0, "snoozed": 0}
    doctor = cli("doctor")
    assert doctor.returncode == 1
    assert "PROBLEM channel toast: unavailable (" in doctor.stdout
    assert "PROBLEM delivery: no channel can deliver alerts" in doctor.stdout
    assert "OK      channel telegram: disabled: not configured ('watchkeeper telegram setup'" in doctor.stdout


def test_a_running_headless_instance_says_its_toast_is_unavailable_and_is_degraded(headless):
    proc = start_instance()
    try:
        wait_until(lambda: running_instance(headless) and headless.control_file.exists(), timeout=15)
        cli("demo", check=True)
        run = cli("check", "run", "stale_applications", check=True)
        assert "-> SENT -> toast (unavailable)" in run.stdout, run.stdout
        status = _status()
        assert _toast(status)["state"] == "unavailable"
        assert status["state"] == "degraded" and "no channel can deliver alerts" in status["reasons"]
        assert next(c for c in status["channels"] if c["name"] == "telegram")["state"] == "disabled"
        text = cli("status", check=True).stdout
        assert "Channel toast: unavailable (" in text
        assert "PROBLEM health: no channel can deliver alerts" in cli("doctor").stdout
        assert cli("doctor").returncode == 1
    finally:
        cli("stop")
        proc.wait(20)


@pytest.fixture
def desktop(wk_home, tmp_path):
    """A real session bus with notification-daemon on a throw-away X display."""
    from tests.tray.xsession import XSession, missing_tools

    missing = missing_tools()
    if missing:
        if os.environ.get("WATCHKEEPER_REQUIRE_GUI") == "1":
            pytest.fail(f"WATCHKEEPER_REQUIRE_GUI=1 but missing: {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")
    session = XSession().start(tray=False)
    try:
        yield session.env
    finally:
        session.close()


def test_with_a_notification_service_the_toast_is_ok(desktop, wk_home):
    stopped = json.loads(cli("status", "--json", env=desktop).stdout)
    assert _toast(stopped)["state"] == "ok"
    assert "problems" not in stopped
    proc = start_instance(env=desktop)
    try:
        wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=15)
        status = json.loads(cli("status", "--json", env=desktop, check=True).stdout)
        assert _toast(status)["state"] == "ok"
        assert "no channel can deliver alerts" not in status["reasons"]
    finally:
        cli("stop", env=desktop)
        proc.wait(20)
