"""Two-way Telegram with a real Engine: buttons, recovery replies, commands, foreign chats."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.alerts import store
from engine.chat.telegram import COMMANDS
from engine.engine import Engine
from engine.store.db import connection
from engine.timeutil import human_time
from tests.delivery_helpers import CHAT, start_telegram_demo_engine
from tests.fakes.telegram_api import FakeTelegramServer
from tests.helpers import wait_until

ZONE = "Europe/Berlin"


@pytest.fixture
def engine(wk_home, fake: FakeTelegramServer) -> Iterator[Engine]:
    eng = start_telegram_demo_engine(wk_home, fake, general={"timezone": ZONE})
    yield eng
    eng.stop("test")


def _alert_message(fake: FakeTelegramServer, check_title: str):
    return wait_until(lambda: next((m for m in fake.messages if check_title in m.text), None), timeout=15,
                      message=f"the {check_title!r} message")


def test_alert_message_has_buttons_and_ack_press_acks_and_edits(engine, fake):
    engine.checks.run("stale_applications", "manual")
    message = _alert_message(fake, "no answer for 9 days")
    title = message.text.split("\n", 1)[0]
    assert title == "<b>Backend Engineer at Acme Corp: no answer for 9 days</b>"  # what happened, no check name
    assert [label for label, _ in message.buttons] == ["Ack", "Snooze 1h", "Snooze 1d"]
    callback = fake.push_callback(CHAT, message.message_id, dict(message.buttons)["Ack"])
    wait_until(lambda: fake.message(message.message_id).edits, timeout=15, message="the edit")
    edited = fake.message(message.message_id)
    assert "Acknowledged" in edited.text  # edits keeps the earlier versions
    assert edited.text.startswith(title + "\n") and edited.parse_mode == "HTML"  # still bold
    assert edited.buttons == []  # nothing left to do on an acknowledged alert
    wait_until(lambda: callback in fake.answers, timeout=15, message="the callback answer")
    assert "Acknowledged" in (fake.answers[callback] or "")
    with connection(engine.db):
        assert [a.state for a in store.list_alerts(engine.db, check="stale_applications")] == ["acknowledged"]


def test_snooze_press_suppresses_until_expiry_and_keeps_the_title_and_an_ack_button(engine, fake):
    engine.checks.run("goal_staleness", "manual")
    message = _alert_message(fake, "no progress")
    title = message.text.split("\n", 1)[0]
    assert title.startswith("<b>Goal 'Run a half marathon'")
    callback = fake.push_callback(CHAT, message.message_id, dict(message.buttons)["Snooze 1d"])
    wait_until(lambda: fake.message(message.message_id).edits, timeout=15)
    with connection(engine.db):
        [alert] = store.list_alerts(engine.db, check="goal_staleness")
    assert alert.state == "snoozed"
    assert alert.snoozed_until is not None and (alert.snoozed_until - engine.now()).total_seconds() > 23 * 3600
    edited = fake.message(message.message_id)
    assert edited.text.startswith(title + "\n")
    assert [label for label, _ in edited.buttons] == ["Ack"]  # a snoozed alert can still be acknowledged
    # the snooze time is shown in the configured zone, with its abbreviation and no microseconds
    expected = human_time(alert.snoozed_until, ZoneInfo(ZONE))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", expected)
    wait_until(lambda: callback in fake.answers, timeout=15, message="the callback answer")
    assert fake.answers[callback] == f"💤 Snoozed until {expected}" and expected in edited.text
    fake.push_callback(CHAT, message.message_id, dict(edited.buttons)["Ack"])
    wait_until(lambda: len(fake.message(message.message_id).edits) == 2, timeout=15, message="the second edit")
    with connection(engine.db):
        assert store.get_alert(engine.db, alert.id).state == "acknowledged"
    assert fake.message(message.message_id).buttons == []


def test_cleared_subject_gets_a_recovery_reply_to_the_alert(engine, fake):
    engine.checks.run("stale_applications", "manual")
    original = _alert_message(fake, "no answer for 9 days")
    with connection(engine.db):
        engine.db.execute_sql("UPDATE applications SET status = 'interview'")
    engine.checks.run("stale_applications", "manual")
    recovery = _alert_message(fake, "Resolved:")
    assert recovery.reply_to == original.message_id
    assert recovery.text.startswith("<b>Resolved: Backend Engineer at Acme Corp: no answer for 9 days</b>\n")
    assert recovery.text.count("Backend Engineer at Acme Corp") == 1  # not said twice
    assert "Resolved after" in recovery.text
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


def test_ack_command_acknowledges_an_alert_by_its_number(engine, fake):
    engine.checks.run("stale_applications", "manual")
    _alert_message(fake, "no answer for 9 days")
    with connection(engine.db):
        [alert] = store.list_alerts(engine.db, check="stale_applications")
    fake.push_command(CHAT, f"/ack {alert.id}")
    reply = wait_until(lambda: next((m for m in fake.messages if m.text.startswith("✅ Acknowledged #")), None),
                       timeout=15, message="the /ack reply")
    assert reply.text == f"✅ Acknowledged #{alert.id}: Backend Engineer at Acme Corp: no answer for 9 days"
    with connection(engine.db):
        assert store.get_alert(engine.db, alert.id).state == "acknowledged"
    fake.push_command(CHAT, "/ack 99999")
    wait_until(lambda: any("99999" in m.text for m in fake.messages), timeout=15, message="the unknown-id reply")


def test_the_chat_gets_a_command_menu_at_start_with_every_command(engine, fake):
    wait_until(lambda: fake.commands, timeout=15, message="setMyCommands")
    names = [c["command"] for c in fake.commands]
    assert names == [name for name, _ in COMMANDS]
    assert {"status", "alerts", "ack", "run", "pause", "resume", "applied", "progress", "help"} <= set(names)
    fake.push_command(CHAT, "/help")
    reply = wait_until(lambda: next((m for m in fake.messages if m.text.startswith("Watchkeeper commands")), None),
                       timeout=15, message="the /help reply")
    assert all(f"/{name} " in reply.text for name in names)
