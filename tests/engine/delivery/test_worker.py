"""Channel workers against the real fake Bot API: faults, outages, permanent errors, collapse."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from engine.alerts import outbox
from engine.alerts.dispatcher import Dispatcher
from engine.channels.telegram import TelegramChannel
from engine.checks.base import Finding
from engine.config import parse_config
from engine.delivery.service import DeliveryService, outbox_hook
from engine.timeutil import utcnow
from tests.delivery_helpers import CHAT, TOKEN, toast_channel
from tests.fakes.telegram_api import Fault
from tests.helpers import wait_until

DAY = timedelta(days=1)


def service(db, fake, notifier=None, *, max_backoff=2, ttl="6h", toast=False):
    config = parse_config({"delivery": {"max_backoff_seconds": max_backoff, "offline_ttl": ttl},
                           "toast": {"enabled": toast},
                           "telegram": {"token": TOKEN, "chat_id": str(CHAT), "api_url": fake.base_url,
                                        "timeout_seconds": 1.0}}, env={})
    channels = {"telegram": TelegramChannel(TOKEN, CHAT, base_url=fake.base_url, timeout=1.0, min_interval=0.05)}
    if toast:
        channels["toast"] = toast_channel(notifier)
    svc = DeliveryService(db, config, channels=channels)
    dispatcher = Dispatcher(db, on_queue=[outbox_hook(config, utcnow)], on_queued=[svc.wake_all])
    return svc, dispatcher


def states(db) -> list[tuple[str, str]]:
    return db.execute_sql("SELECT channel, state FROM outbox ORDER BY id").fetchall()


def fire(dispatcher, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        dispatcher.dispatch(f"check_{i}", [Finding(f"s{i}", "warning", f"problem {i}")], DAY, utcnow())


@pytest.mark.slow
def test_429_then_500s_then_30s_outage_then_back_delivers_everything(db, fake):
    fake.add_fault("sendMessage", Fault.flood(2))
    fake.add_fault("sendMessage", Fault.server_error(500), times=3)
    svc, dispatcher = service(db, fake)
    svc.start()
    try:
        fire(dispatcher, 1)
        flood = wait_until(lambda: [r for r in fake.requests_for("sendMessage") if r.fault], message="the 429")[0]
        wait_until(lambda: len([r for r in fake.requests_for("sendMessage") if r.fault]) >= 4, timeout=30,
                   message="the 500s")
        retried = [r for r in fake.requests_for("sendMessage") if r.t > flood.t]
        assert retried[0].t - flood.t >= 2.0, "a request was made before retry_after elapsed"
        fake.stop()  # the server goes away: connection refused
        fire(dispatcher, 2, first=1)  # more alerts while it is down
        outage_end = time.monotonic() + 30
        while time.monotonic() < outage_end:  # a real 30 s outage, as the acceptance asks
            time.sleep(min(1.0, max(0.0, outage_end - time.monotonic())))
        assert all(state == "pending" for _, state in states(db))
        fake.start()
        wait_until(lambda: all(state == "sent" for _, state in states(db)), timeout=30, message="all delivered")
    finally:
        svc.close()
    texts = [m.text for m in fake.messages]
    assert sorted(texts) == sorted({t for t in texts})  # none twice
    assert len(texts) == 3  # none lost


def test_no_request_before_retry_after(db, fake):
    fake.add_fault("sendMessage", Fault.flood(2))
    svc, dispatcher = service(db, fake, max_backoff=1)
    svc.start()
    try:
        fire(dispatcher, 1)
        wait_until(lambda: states(db) == [("telegram", "sent")], timeout=20)
    finally:
        svc.close()
    sends = fake.requests_for("sendMessage")
    assert len(sends) == 2 and sends[1].t - sends[0].t >= 2.0
    attempts = db.execute_sql("SELECT ok, error FROM delivery_attempts ORDER BY id").fetchall()
    assert attempts[0][0] == 0 and re.search(r"retry in (2 seconds|0:00:02)", attempts[0][1].lower())
    assert attempts[1] == (1, None)


def test_blocked_bot_fails_the_row_marks_channel_broken_and_toast_still_delivers(db, fake, notifier):
    fake.add_fault("sendMessage", Fault.forbidden(), times=5)
    svc, dispatcher = service(db, fake, notifier, toast=True)
    svc.start()
    try:
        fire(dispatcher, 1)
        wait_until(lambda: sorted(states(db)) == [("telegram", "failed"), ("toast", "sent")], timeout=20)
    finally:
        svc.close()
    [telegram, toast] = sorted(svc.status(), key=lambda c: c["name"])
    assert telegram["state"] == "broken" and "blocked" in telegram["last_error"]
    assert TOKEN not in telegram["last_error"]
    assert toast["state"] == "ok"
    assert notifier.shown == [("Check 0: 1 needs attention", "• problem 0")]


def test_rows_older_than_ttl_collapse_into_one_message(db, fake):
    svc, dispatcher = service(db, fake, ttl="1h")
    fire(dispatcher, 4)
    db.execute_sql("UPDATE outbox SET created_at = '2020-01-01T00:00:00.000000Z'")
    svc.drain_once(timeout=20)
    svc.close()
    assert [m.text.splitlines()[0] for m in fake.messages] == ["<b>While you were offline: 4 messages</b>"]
    assert db.execute_sql("SELECT count(*) FROM outbox WHERE state = 'collapsed'").fetchone()[0] == 4


def test_interrupted_sending_rows_are_delivered_again(db, fake):
    svc, dispatcher = service(db, fake)
    fire(dispatcher, 1)
    db.execute_sql("UPDATE outbox SET state = 'sending'")  # a crash between claim and send
    assert svc.drain_once(timeout=20) == 1
    svc.close()
    assert states(db) == [("telegram", "sent")]


def test_sent_rows_are_never_sent_again(db, fake):
    svc, dispatcher = service(db, fake)
    fire(dispatcher, 2)
    svc.drain_once(timeout=20)
    svc.drain_once(timeout=20)
    svc.close()
    assert len(fake.messages) == 2
    assert outbox.due(db, "telegram", utcnow()) == []
