"""Tried as a new user would: demo, check run --all twice, check why, alerts, pause."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from engine.process.lifecycle import running_instance
from tests.helpers import cli, start_instance, wait_until

SEED_CHECKS = ["stale_applications", "session_crash", "goal_staleness"]


def _run_all() -> dict[str, dict]:
    result = cli("check", "run", "--all", "--json", check=True)
    return {r["check"]: r for r in json.loads(result.stdout)}


def _scenario(wk_home) -> None:
    assert cli("demo", check=True).returncode == 0
    first = _run_all()
    for name in SEED_CHECKS:
        assert first[name]["decision"] == "SENT", first[name]
    second = _run_all()
    for name in SEED_CHECKS:
        assert second[name]["decision"] == "SUPPRESSED"
        assert re.fullmatch(r"\d+s into (24h|1h|7d) cooldown", second[name]["reason"])
    with sqlite3.connect(wk_home.db_file) as conn:
        sent = conn.execute("SELECT check_name, count(*) FROM heartbeat_log WHERE decision = 'SENT'"
                            " GROUP BY check_name").fetchall()
        grouped = conn.execute("SELECT check_name FROM notifications WHERE kind = 'alert'").fetchall()
    # Only the data checks matter here: machine checks (disk, ports) depend on the test machine.
    assert sorted(s for s in sent if s[0] in SEED_CHECKS) == sorted((n, 1) for n in SEED_CHECKS)
    assert sorted(g[0] for g in grouped if g[0] in SEED_CHECKS) == sorted(SEED_CHECKS)
    why = cli("check", "why", "stale_applications", check=True).stdout.splitlines()
    assert why[0] == "Check: stale_applications"
    assert re.fullmatch(r"  Last notified: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", why[1])
    assert why[2] == "  Cooldown: 24 hours"
    assert re.fullmatch(r"  Current time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", why[3])
    assert re.fullmatch(r"  Result: SUPPRESSED \(\d+s into 24h cooldown\)", why[4])


def test_demo_then_check_run_all_without_a_running_instance(wk_home):
    _scenario(wk_home)


@pytest.fixture
def instance(wk_home, monkeypatch):
    """A running instance with a channel that delivers wherever the test runs (Telegram on the fake
    Bot API; a toast needs a notification service): without one its health is DEGRADED."""
    from tests.delivery_helpers import CHAT, TOKEN
    from tests.fakes.telegram_api import FakeTelegramServer

    fake = FakeTelegramServer(token=TOKEN).start()
    for var, value in (("TOKEN", TOKEN), ("CHAT_ID", str(CHAT)), ("API_URL", fake.base_url)):
        monkeypatch.setenv(f"WATCHKEEPER_TELEGRAM_{var}", value)
    proc = start_instance()
    wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=15)
    yield proc
    cli("stop")
    proc.wait(20)
    fake.close()


def test_demo_then_check_run_all_through_the_running_instance(wk_home, instance):
    _scenario(wk_home)
    status = json.loads(cli("status", "--json", check=True).stdout)
    assert status["state"] == "attention"
    # machine checks (disk, ports) may add their own findings on a busy test machine
    assert sorted(a["check"] for a in status["open_alerts"] if a["check"] in SEED_CHECKS) == sorted(SEED_CHECKS)


def test_ack_snooze_pause_and_resume_from_the_cli(wk_home, instance):
    cli("demo", check=True)
    cli("check", "run", "--all", check=True)
    alerts = json.loads(cli("alerts", "--json", check=True).stdout)
    ids = {a["check_name"]: a["id"] for a in alerts}
    assert "-> acknowledged" in cli("alerts", "ack", str(ids["stale_applications"]), check=True).stdout
    assert "-> snoozed" in cli("alerts", "snooze", str(ids["session_crash"]), "1h", check=True).stdout
    assert cli("alerts", "ack", "99999").returncode == 1
    assert cli("alerts", "snooze", "1", "soon").returncode == 2
    cli("pause", "2h", check=True)
    assert json.loads(cli("status", "--json").stdout)["state"] == "paused"
    log = json.loads(cli("log", "--check", "goal_staleness", "--json").stdout)
    assert log[0]["decision"] == "SENT"
    cli("resume", check=True)
    assert json.loads(cli("status", "--json").stdout)["paused_until"] is None


def test_unknown_check_is_a_clear_error(wk_home):
    result = cli("check", "run", "nope")
    assert result.returncode == 2 and "no check named 'nope'" in result.stderr


def test_listening_ports_baseline_can_be_shown_and_reset(wk_home):
    assert "No baseline yet" in cli("check", "baseline", "listening_ports", check=True).stdout
    cli("check", "run", "listening_ports", check=True)
    shown = json.loads(cli("check", "baseline", "listening_ports", "--json", check=True).stdout)
    assert isinstance(shown["baseline"], list)
    assert "forgotten" in cli("check", "baseline", "listening_ports", "--reset", check=True).stdout
    assert json.loads(cli("check", "baseline", "listening_ports", "--json").stdout)["baseline"] is None
