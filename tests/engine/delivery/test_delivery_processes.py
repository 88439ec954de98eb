"""Delivery acceptance with real processes: the CLI, a running instance, kill -9, restart."""

from __future__ import annotations

import json
import re
import signal
import sqlite3

import pytest

from engine.delivery.outbox import max_wait
from engine.process.lifecycle import running_instance
from engine.timeutil import from_db, human_time
from tests.delivery_helpers import CHAT, TOKEN
from tests.fakes.telegram_api import FakeTelegramServer, Fault
from tests.helpers import cli, start_instance, wait_until

# What the demo's three alerts are titled: what happened, not the check's name.
SEED_TITLES = ("Backend Engineer at Acme Corp: no answer for 9 days",
               "No activity in session 'Demo: refactor billing' for 45 min",
               "Goal 'Run a half marathon' (Health): no progress for 20 days")


@pytest.fixture
def tg_env(wk_home, fake: FakeTelegramServer, monkeypatch) -> FakeTelegramServer:
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_CHAT_ID", str(CHAT))
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_API_URL", fake.base_url)
    with wk_home.config_file.open("a") as config:
        config.write("[checks.disk_space]\nenabled = false\n[checks.endpoint]\nenabled = false\n"
                     "[checks.listening_ports]\nenabled = false\n")
    return fake


def _rows(wk_home, sql: str) -> list[tuple]:
    with sqlite3.connect(wk_home.db_file, timeout=10) as conn:
        return conn.execute(sql).fetchall()


def test_demo_and_check_run_all_deliver_one_message_per_firing_check(wk_home, tg_env):
    cli("demo", check=True)
    cli("check", "run", "--all", check=True)
    titles = [m.text.split("\n")[0] for m in tg_env.messages]
    assert sorted(titles) == sorted(f"<b>{t}</b>" for t in SEED_TITLES)
    for message in tg_env.messages:
        assert [label for label, _ in message.buttons] == ["Ack", "Snooze 1h", "Snooze 1d"]
    toast_attempts = _rows(wk_home, "SELECT count(DISTINCT o.notification_id) FROM delivery_attempts a"
                                    " JOIN outbox o ON o.id = a.outbox_id WHERE o.channel = 'toast'")
    assert toast_attempts == [(3,)]  # one toast attempt per notification, delivered or not


def test_blocked_bot_shows_channel_broken_in_status(wk_home, tg_env):
    tg_env.add_fault("sendMessage", Fault.forbidden(), times=10)
    cli("demo", check=True)
    cli("check", "run", "stale_applications", check=True)
    status = json.loads(cli("status", "--json").stdout)
    telegram = next(c for c in status["channels"] if c["name"] == "telegram")
    assert telegram["state"] == "broken"
    assert "blocked" in telegram["last_error"] and TOKEN not in json.dumps(status)
    text = cli("status").stdout
    assert "Channel telegram: broken" in text
    doctor = cli("doctor")
    assert doctor.returncode == 1 and "PROBLEM channel telegram: broken" in doctor.stdout


def test_kill_9_with_pending_rows_then_restart_delivers_everything(wk_home, tg_env):
    tg_env.stop()  # Telegram unreachable: rows stay pending
    first = start_instance()
    try:
        wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=15)
        cli("demo", check=True)
        cli("check", "run", "--all", check=True)
        wait_until(lambda: _rows(wk_home, "SELECT count(*) FROM outbox WHERE channel = 'telegram'"
                                          " AND attempts >= 1") == [(3,)], timeout=20, message="failed attempts")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    interrupted = _rows(wk_home, "SELECT count(*) FROM outbox WHERE state = 'sending'")[0][0]
    sent_before = _rows(wk_home, "SELECT count(*) FROM outbox WHERE channel = 'telegram' AND state = 'sent'")[0][0]
    assert sent_before == 0
    tg_env.start()
    second = start_instance()
    try:
        wait_until(lambda: _rows(wk_home, "SELECT count(*) FROM outbox WHERE channel = 'telegram'"
                                          " AND state = 'sent'") == [(3,)], timeout=30, message="all delivered")
    finally:
        cli("stop")
        second.wait(20)
    texts = [m.text for m in tg_env.messages]
    duplicates = len(texts) - len(set(texts))
    assert len(set(texts)) == 3  # none lost
    assert duplicates <= interrupted  # at-least-once: only rows caught mid-send may repeat


def test_huge_retry_after_is_clamped_and_status_and_doctor_say_rate_limited(wk_home, tg_env):
    tg_env.add_fault("sendMessage", Fault.flood(10**11))  # "retry after 3170 years"
    cli("demo", check=True)
    cli("check", "run", "stale_applications", check=True)
    [(next_at, created)] = _rows(wk_home, "SELECT next_attempt_at, created_at FROM outbox WHERE channel = 'telegram'")
    parked = (from_db(next_at) - from_db(created)).total_seconds()
    assert parked <= max_wait(600) + 60  # at most an hour, not until the year 5195
    status = json.loads(cli("status", "--json").stdout)
    telegram = next(c for c in status["channels"] if c["name"] == "telegram")
    assert telegram["state"] == "rate-limited" and telegram["rate_limited_until"]
    until = human_time(telegram["rate_limited_until"])  # the machine's zone, as the CLI shows it
    assert f"Channel telegram: rate-limited until {until}, 1 pending" in cli("status").stdout
    doctor = cli("doctor").stdout
    assert re.search(rf"OK +channel telegram: rate-limited until {until}", doctor), doctor


def test_a_successful_telegram_test_clears_a_broken_channel_and_resumes_its_pending_messages(wk_home, tg_env):
    tg_env.add_fault("sendMessage", Fault.forbidden())
    cli("demo", check=True)
    cli("check", "run", "stale_applications", check=True)  # permanent: that message failed, the channel broken
    tg_env.add_fault("sendMessage", Fault.flood(600))
    cli("check", "run", "session_crash", check=True)  # waits ten minutes behind a 429
    assert [r[0] for r in _rows(wk_home, "SELECT state FROM outbox WHERE channel = 'telegram' ORDER BY id")] == \
        ["failed", "pending"]
    assert "Test message sent" in cli("telegram", "test", check=True).stdout
    status = json.loads(cli("status", "--json").stdout)
    assert next(c for c in status["channels"] if c["name"] == "telegram")["state"] == "ok"
    cli("check", "run", "goal_staleness", check=True)  # delivers what is due: the waiting message too
    titles = [m.text.split("\n")[0] for m in tg_env.messages]
    assert "<b>No activity in session 'Demo: refactor billing' for 45 min</b>" in titles
    assert _rows(wk_home, "SELECT state FROM outbox WHERE channel = 'telegram' ORDER BY id") == \
        [("failed",), ("sent",), ("sent",)]
