"""Channel workers against the real fake Bot API: faults, outages, permanent errors, collapse."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from engine.alerts.dispatcher import Dispatcher
from engine.channels.telegram.channel import TelegramChannel
from engine.channels.telegram.format import format_text
from engine.delivery import outbox
from engine.delivery.service import DeliveryService, outbox_hook
from engine.delivery.worker import ChannelWorker
from engine.findings import Finding
from engine.timeutil import from_db, to_db, utcnow
from engine.units import CHANNELS
from tests.delivery_helpers import CHAT, TOKEN, toast_channel
from tests.fakes.telegram_api import Fault
from tests.helpers import parse_config, wait_until

DAY = timedelta(days=1)


def service(db, fake, notifier=None, *, max_backoff=2, ttl="6h", toast=False, timeout=1.0):
    config = parse_config({"delivery": {"max_backoff_seconds": max_backoff, "offline_ttl": ttl},
                           "toast": {"enabled": toast},
                           "telegram": {"token": TOKEN, "chat_id": str(CHAT), "api_url": fake.base_url,
                                        "timeout_seconds": timeout}}, env={})
    channels = {"telegram": TelegramChannel(TOKEN, CHAT, base_url=fake.base_url, timeout=timeout, min_interval=0.05)}
    if toast:
        channels["toast"] = toast_channel(notifier)
    svc = DeliveryService(db, config, CHANNELS, channels=channels)
    dispatcher = Dispatcher(db, on_queue=[outbox_hook(config, utcnow, CHANNELS)], on_queued=[svc.wake_all])
    return svc, dispatcher


def states(db) -> list[tuple[str, str]]:
    return db.execute_sql("SELECT channel, state FROM outbox ORDER BY id").fetchall()


def fire(dispatcher, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        dispatcher.dispatch(f"check_{i}", [Finding(f"s{i}", "warning", f"problem {i}")], DAY, utcnow())


def failed_attempts(db, first_row: int) -> list[int]:
    """Failed delivery attempts per outbox row from ``first_row`` on (in id order)."""
    rows = db.execute_sql("SELECT o.id, (SELECT count(*) FROM delivery_attempts a WHERE a.outbox_id = o.id AND"
                          " a.ok = 0) FROM outbox o WHERE o.id >= ? ORDER BY o.id", (first_row,)).fetchall()
    return [count for _, count in rows]


@pytest.mark.slow
def test_429_then_500s_then_30s_outage_then_back_delivers_everything(db, fake):
    fake.add_fault("sendMessage", Fault.flood(2))
    fake.add_fault("sendMessage", Fault.server_error(500), times=3)
    # A generous request timeout: under load a reply slower than the timeout would be a lost answer
    # to a message the server did store, and the retry would deliver it twice.
    svc, dispatcher = service(db, fake, timeout=30.0)
    svc.start()
    try:
        fire(dispatcher, 1)
        flood = wait_until(lambda: [r for r in fake.requests_for("sendMessage") if r.fault], timeout=60,
                           message="the 429")[0]
        wait_until(lambda: len([r for r in fake.requests_for("sendMessage") if r.fault]) >= 4, timeout=120,
                   message="the 500s")
        retried = [r for r in fake.requests_for("sendMessage") if r.t > flood.t]
        assert retried[0].t - flood.t >= 2.0, "a request was made before retry_after elapsed"
        wait_until(lambda: states(db) == [("telegram", "sent")], timeout=60, message="the first alert delivered")
        fake.stop()  # the server goes away: connection refused
        first_new = len(states(db)) + 1
        fire(dispatcher, 2, first=1)  # more alerts while it is down
        # A real outage of at least 30 s (as the acceptance asks) in which each new row was tried and
        # refused at least twice: a condition, not a fixed sleep, so a loaded machine only makes it longer.
        outage_start = time.monotonic()
        wait_until(lambda: time.monotonic() - outage_start >= 30
                   and all(n >= 2 for n in failed_attempts(db, first_new)), timeout=180, interval=0.2,
                   message="30 s of outage with every new row refused twice")
        # Nothing delivered, given up or folded while the server is gone ("sending": an attempt in flight).
        assert all(state in ("pending", "sending") for _, state in states(db)[first_new - 1:])
        fake.start()
        wait_until(lambda: all(state == "sent" for _, state in states(db)), timeout=120, message="all delivered")
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
    assert notifier.shown == [("Watchkeeper", "problem 0")]  # one alert without detail: its title is the text


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


# -- long messages under flood control, huge retry_after, the clock set back ----------------------


def _queue_raw(db, title: str, body: str, now) -> int:
    """A notification with an arbitrary body queued for Telegram (bypassing the size cap)."""
    cursor = db.execute_sql(
        "INSERT INTO notifications (check_name, kind, severity, title, body, alert_ids, created_at)"
        " VALUES ('bulk', 'alert', 'warning', ?, ?, '[]', ?)", (title, body, to_db(now)))
    nid = int(cursor.lastrowid)
    outbox.enqueue(db, nid, ["telegram"], now)
    return nid


def _body_of_parts(title: str, parts: int) -> str:
    lines = 0
    while True:
        lines += 40
        body = "\n".join(f"{i:05d} " + "x" * 94 for i in range(lines))
        n = len(format_text(body, title=title))
        if n == parts:
            return body
        assert n < parts, "overshot"


def test_51_part_message_completes_under_flood_control_each_part_once_in_order(db, fake):
    body = _body_of_parts("Bulk", 51)
    chunks = format_text(body, title="Bulk")
    fake.flood_every(20, retry_after=1)  # Telegram lets 20 through, then 429 retry_after=1
    svc, _ = service(db, fake, max_backoff=1)
    _queue_raw(db, "Bulk", body, utcnow())
    svc.start()
    try:
        wait_until(lambda: states(db) == [("telegram", "sent")], timeout=60, message="the 51-part message")
    finally:
        svc.close()
    assert [m.text for m in fake.messages] == chunks  # each part exactly once, in order
    assert len([r for r in fake.requests_for("sendMessage") if r.params.get("text")]) == 51 + 2  # + two 429s
    row = db.execute_sql("SELECT parts_sent, first_message_id, channel_message_id FROM outbox").fetchone()
    assert row == (51, str(fake.messages[0].message_id), str(fake.messages[-1].message_id))


def test_retry_after_of_1e11_seconds_is_clamped_and_channel_reports_rate_limited(db, fake):
    fake.add_fault("sendMessage", Fault.flood(10**11))
    svc, dispatcher = service(db, fake, max_backoff=2)
    fire(dispatcher, 1)
    before = utcnow()
    svc.drain_once(timeout=20)
    try:
        [(next_at,)] = db.execute_sql("SELECT next_attempt_at FROM outbox").fetchall()
        assert from_db(next_at) <= before + timedelta(seconds=outbox.max_wait(2) + 60)  # not year 5195
        [telegram] = [c for c in svc.status() if c["name"] == "telegram"]  # the disabled toast follows
        assert telegram["state"] == "rate-limited"
        until = from_db(telegram["rate_limited_until"])
        assert before < until <= before + timedelta(seconds=outbox.max_wait(2) + 60)
    finally:
        svc.close()


def _clocked_worker(db, fake, clock, max_backoff=60, ttl="6h"):
    channel = TelegramChannel(TOKEN, CHAT, base_url=fake.base_url, timeout=1.0, min_interval=0.0)
    svc = DeliveryService(db, parse_config({"toast": {"enabled": False}}, env={}), CHANNELS, now=lambda: clock[0],
                          channels={"telegram": channel})
    worker = ChannelWorker(db, channel, svc.build_message, now=lambda: clock[0], max_backoff=max_backoff,
                           offline_ttl=timedelta(hours=6) if ttl == "6h" else timedelta(hours=1))
    return svc, worker


def test_next_attempt_computed_before_the_clock_was_set_back_is_due_now(db, fake):
    clock = [utcnow()]
    _queue_raw(db, "Parked", "next attempt far ahead", clock[0])
    # computed before the clock moved back ten days: now ten days "in the future"
    db.execute_sql("UPDATE outbox SET next_attempt_at = ?, attempts = 3", (to_db(clock[0] + timedelta(days=10)),))
    svc, worker = _clocked_worker(db, fake, clock)
    try:
        assert worker.drain() == 1
    finally:
        svc.close()
    assert states(db) == [("telegram", "sent")]


def test_rows_created_in_the_future_are_not_collapsed_as_stale(db, fake):
    clock = [utcnow()]
    for i in range(3):  # queued before the clock was set back a day
        _queue_raw(db, f"Future {i}", "body", clock[0] + timedelta(days=1))
    svc, worker = _clocked_worker(db, fake, clock)
    try:
        assert worker.collapse_stale() is None
        assert worker.drain() == 3
    finally:
        svc.close()
    assert [m.text.splitlines()[0] for m in fake.messages] == [f"<b>Future {i}</b>" for i in range(3)]


def test_a_partly_delivered_row_is_finished_not_collapsed(db, fake):
    clock = [utcnow()]
    _queue_raw(db, "Half", "\n".join(["y" * 3000] * 2), clock[0] - timedelta(days=2))
    _queue_raw(db, "Old", "old", clock[0] - timedelta(days=2))
    _queue_raw(db, "Older", "older", clock[0] - timedelta(days=2))
    db.execute_sql("UPDATE outbox SET parts_sent = 1 WHERE id = 1")
    svc, worker = _clocked_worker(db, fake, clock)
    try:
        worker.drain()
    finally:
        svc.close()
    texts = [m.text.splitlines()[0] for m in fake.messages]
    assert texts[0] == "y" * 3000  # only the second part of "Half"
    assert texts[1].startswith("<b>While you were offline: 2 messages")
