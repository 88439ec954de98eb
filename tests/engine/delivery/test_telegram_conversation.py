"""Two-way Telegram with a real Engine: buttons, recovery replies, commands, foreign chats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.alerts import store
from engine.engine import Engine
from engine.store.db import connection
from tests.delivery_helpers import CHAT, start_telegram_demo_engine
from tests.fakes.telegram_api import FakeTelegramServer
from tests.helpers import wait_until


@pytest.fixture
def engine(wk_home, fake: FakeTelegramServer) -> Iterator[Engine]:
    eng = start_telegram_demo_engine(wk_home, fake)
    yield eng
    eng.stop("test")


def _alert_message(fake: FakeTelegramServer, check_title: str):
    return wait_until(lambda: next((m for m in fake.messages if check_title in m.text), None), timeout=15,
                      message=f"the {check_title!r} message")


def test_alert_message_has_buttons_and_ack_press_acks_and_edits(engine, fake):
    engine.checks.run("stale_applications", "manual")
    message = _alert_message(fake, "Stale applications")
    assert [label for label, _ in message.buttons] == ["Ack", "Snooze 1h", "Snooze 1d"]
    callback = fake.push_callback(CHAT, message.message_id, dict(message.buttons)["Ack"])
    wait_until(lambda: fake.message(message.message_id).edits, timeout=15, message="the edit")
    assert "Acknowledged" in fake.message(message.message_id).text  # edits keeps the earlier versions
    wait_until(lambda: callback in fake.answers, timeout=15, message="the callback answer")
    assert "Acknowledged" in (fake.answers[callback] or "")
    with connection(engine.db):
        assert [a.state for a in store.list_alerts(engine.db, check="stale_applications")] == ["acknowledged"]


def test_snooze_press_suppresses_until_expiry(engine, fake):
    engine.checks.run("goal_staleness", "manual")
    message = _alert_message(fake, "Goal staleness")
    fake.push_callback(CHAT, message.message_id, dict(message.buttons)["Snooze 1d"])
    wait_until(lambda: fake.message(message.message_id).edits, timeout=15)
    with connection(engine.db):
        [alert] = store.list_alerts(engine.db, check="goal_staleness")
    assert alert.state == "snoozed"
    assert alert.snoozed_until is not None and (alert.snoozed_until - engine.now()).total_seconds() > 23 * 3600


def test_cleared_subject_gets_a_recovery_reply_to_the_alert(engine, fake):
    engine.checks.run("stale_applications", "manual")
    original = _alert_message(fake, "Stale applications")
    with connection(engine.db):
        engine.db.execute_sql("UPDATE applications SET status = 'interview'")
    engine.checks.run("stale_applications", "manual")
    recovery = _alert_message(fake, "Resolved:")
    assert recovery.reply_to == original.message_id
    assert "resolved after" in recovery.text
    assert recovery.disable_notification is True  # recoveries are info: silent


def test_status_command_answers_and_other_chats_are_ignored(engine, fake):
    fake.push_command(999, "/status")
    fake.push_command(CHAT, "/status")
    reply = wait_until(lambda: next((m for m in fake.messages if "Need attention" in m.text),
                                    None), timeout=15, message="the /status reply")
    assert str(reply.chat_id) == str(CHAT)
    assert all(str(m.chat_id) == str(CHAT) for m in fake.messages)


def test_status_command_counts_snoozed_and_acknowledged_alerts_apart(engine, fake):
    for name in ("stale_applications", "session_crash", "goal_staleness"):
        engine.checks.run(name, "manual")
    with connection(engine.db):
        [stale] = store.list_alerts(engine.db, check="stale_applications")
        [goal] = store.list_alerts(engine.db, check="goal_staleness")
        store.acknowledge(engine.db, stale.id, engine.now())
        store.snooze(engine.db, goal.id, engine.now() + timedelta(hours=1), engine.now())
    fake.push_command(CHAT, "/status")
    wait_until(lambda: any("Need attention: 1 (acknowledged 1, snoozed 1)" in m.text for m in fake.messages),
               timeout=15, message="the /status reply with the counts")


def test_pause_and_run_commands_reach_the_engine(engine, fake):
    fake.push_command(CHAT, "/run stale_applications")
    wait_until(lambda: any("stale_applications: 1 finding(s), SENT" in m.text for m in fake.messages), timeout=15)
    fake.push_command(CHAT, "/pause 2h")
    wait_until(lambda: any("Alerts paused until" in m.text for m in fake.messages), timeout=15)
    assert engine.snapshot().paused_until is not None
    fake.push_command(CHAT, "/resume")
    wait_until(lambda: engine.snapshot().paused_until is None, timeout=15)
