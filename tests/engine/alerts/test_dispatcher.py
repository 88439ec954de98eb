"""The dispatcher on a real database: lifecycle, grouping, cooldown, quiet hours, recovery."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine import runtime_state
from engine.alerts import store
from engine.alerts.dispatcher import Dispatcher
from engine.alerts.policy import QuietHours
from engine.alerts.retention import prune_heartbeat_log
from engine.findings import Finding
from engine.heartbeat import Heartbeat
from engine.timeutil import to_db
from engine.units import open_db

NOW = datetime(2026, 2, 22, 10, 15, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
A = Finding("application:1", "warning", "Engineer at Acme: no answer for 9 days", "applied 2026-02-13")
B = Finding("application:2", "warning", "SRE at Globex: no answer for 8 days")


def notifications(db) -> list[tuple]:
    return db.execute_sql("SELECT kind, title, body, alert_ids FROM notifications ORDER BY id").fetchall()


def decisions(db) -> list[tuple]:
    return db.execute_sql("SELECT decision, reason FROM heartbeat_log ORDER BY id").fetchall()


def test_one_grouped_notification_lists_every_open_subject(db):
    result = Dispatcher(db).dispatch("stale_applications", [A, B], DAY, NOW)
    assert result.decision.action == "SENT"
    [(kind, title, body, ids)] = notifications(db)
    assert kind == "alert" and title == "2 applications with no answer"
    assert "Engineer at Acme" in body and "SRE at Globex" in body and "applied 2026-02-13" in body
    assert len(json.loads(ids)) == 2
    assert decisions(db) == [("SENT", "first notification")]


def test_inside_cooldown_is_suppressed_and_logged_with_reason(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A], DAY, NOW)
    result = d.dispatch("stale_applications", [A, B], DAY, NOW + timedelta(hours=4, minutes=15))
    assert result.decision.text == "SUPPRESSED (4h 15m into 24h cooldown)"
    assert len(notifications(db)) == 1
    after = d.dispatch("stale_applications", [A, B], DAY, NOW + DAY)
    assert after.decision.action == "SENT"
    assert "SRE at Globex" in notifications(db)[-1][2]


def test_acknowledged_alerts_are_not_renotified(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A, B], DAY, NOW)
    alert_a = next(a for a in store.list_alerts(db) if a.subject == A.subject)
    store.acknowledge(db, alert_a.id, NOW)
    d.dispatch("stale_applications", [A, B], DAY, NOW + DAY)
    _, title, body, _ = notifications(db)[-1]
    assert "SRE at Globex" in title + body and "Engineer at Acme" not in title + body
    alert_b = next(a for a in store.list_alerts(db) if a.subject == B.subject)
    store.acknowledge(db, alert_b.id, NOW)
    result = d.dispatch("stale_applications", [A, B], DAY, NOW + 3 * DAY)
    assert result.decision is None and len(notifications(db)) == 2


def test_snooze_suppresses_until_it_expires_by_itself(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A], DAY, NOW)
    alert = store.list_alerts(db)[0]
    store.snooze(db, alert.id, NOW + 3 * DAY)
    assert d.dispatch("stale_applications", [A], DAY, NOW + 2 * DAY).decision is None
    result = d.dispatch("stale_applications", [A], DAY, NOW + 3 * DAY)
    assert result.decision.action == "SENT"
    assert store.get_alert(db, alert.id).state == "open"


def test_cleared_subject_resolves_and_queues_recovery_with_duration(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A, B], DAY, NOW)
    result = d.dispatch("stale_applications", [B], DAY, NOW + timedelta(hours=3, minutes=12))
    assert len(result.recovery_ids) == 1
    kind, title, body, _ = notifications(db)[-1]
    assert kind == "recovery"
    assert title == "Resolved: Engineer at Acme: no answer for 9 days"
    assert body == "Resolved after 3 h 12 min."  # the title is not said again
    states = {a.subject: a.state for a in store.list_alerts(db)}
    assert states == {A.subject: "resolved", B.subject: "open"}
    # the recovery does not restart the cooldown
    assert d.dispatch("stale_applications", [B], DAY, NOW + DAY).decision.action == "SENT"


def test_never_notified_alert_resolves_silently(db):
    d = Dispatcher(db)
    runtime_state.set_paused_until(db, NOW + timedelta(hours=1))
    d.dispatch("stale_applications", [A], DAY, NOW)
    runtime_state.set_paused_until(db, None)
    result = d.dispatch("stale_applications", [], DAY, NOW + timedelta(hours=2))
    assert result.recovery_ids == [] and notifications(db) == []


def test_restart_never_reannounces_alerts_already_sent(db):
    Dispatcher(db).dispatch("stale_applications", [A], DAY, NOW)
    restarted = Dispatcher(db)  # a new process: only the database remembers
    result = restarted.dispatch("stale_applications", [A], DAY, NOW + timedelta(minutes=5))
    assert result.opened == [] and result.decision.action == "SUPPRESSED"
    assert len(notifications(db)) == 1


def test_pause_suppresses_with_reason_paused(db):
    runtime_state.set_paused_until(db, NOW + timedelta(hours=2))
    result = Dispatcher(db).dispatch("stale_applications", [A], DAY, NOW)
    assert result.decision.action == "SUPPRESSED" and result.decision.reason.startswith("paused until")
    assert notifications(db) == []


BERLIN = ZoneInfo("Europe/Berlin")
QUIET = QuietHours.from_config("22:00", "07:00", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BERLIN)


def local(hour: int, day: int = 22) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=BERLIN).astimezone(timezone.utc)


def test_quiet_hours_defer_then_one_digest_at_window_end(db):
    d = Dispatcher(db, quiet=QUIET)
    assert d.dispatch("stale_applications", [A], DAY, local(23)).decision.action == "DEFERRED"
    goal = Finding("goal:1", "info", "Goal 'Run': no progress for 20 days")
    assert d.dispatch("goal_staleness", [goal], 7 * DAY, local(23)).decision.action == "DEFERRED"
    assert d.flush_deferred(local(3, day=23)) is None  # still quiet
    assert notifications(db) == []
    digest_id = d.flush_deferred(local(7, day=23))
    assert digest_id is not None
    [(kind, title, body, ids)] = notifications(db)
    assert kind == "digest" and title == "While it was quiet: 2 alerts"
    assert "Engineer at Acme" in body and "Goal 'Run'" in body
    assert d.flush_deferred(local(8, day=23)) is None  # delivered once
    # the digest counts as SENT for the cooldown
    assert d.dispatch("stale_applications", [A], DAY, local(9, day=23)).decision.action == "SUPPRESSED"


def test_critical_findings_go_through_quiet_hours(db):
    down = Finding("https://example.org", "critical", "example.org is down")
    result = Dispatcher(db, quiet=QUIET).dispatch("endpoint", [down], DAY, local(23))
    assert result.decision.action == "SENT"


def test_decision_and_notification_commit_together(db):
    def failing_hook(db_, notification_id, severity):
        raise RuntimeError("outbox unavailable")

    d = Dispatcher(db, on_queue=[failing_hook])
    with pytest.raises(RuntimeError):
        d.dispatch("stale_applications", [A], DAY, NOW)
    assert decisions(db) == [] and notifications(db) == [] and store.list_alerts(db) == []


def test_explain_uses_the_seed_format(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A], DAY, NOW)
    text = d.explain("stale_applications", DAY, NOW + timedelta(hours=4, minutes=15), timezone.utc).text()
    assert text == (
        "Check: stale_applications\n"
        "  Last notified: 2026-02-22 10:15:00 UTC\n"
        "  Cooldown: 24 hours\n"
        "  Current time: 2026-02-22 14:30:00 UTC\n"
        "  Result: SUPPRESSED (4h 15m into 24h cooldown)"
    )


def test_retention_never_drops_entries_younger_than_the_longest_cooldown(db):
    d = Dispatcher(db)
    d.dispatch("goal_staleness", [A], 7 * DAY, NOW - 30 * DAY)
    d.dispatch("goal_staleness", [A], 7 * DAY, NOW - 5 * DAY)
    removed = prune_heartbeat_log(db, NOW, retention=DAY, longest_cooldown=7 * DAY)
    assert removed == 1
    assert [r[0] for r in db.execute_sql("SELECT ts FROM heartbeat_log")] == [to_db(NOW - 5 * DAY)]
    assert d.dispatch("goal_staleness", [A], 7 * DAY, NOW).decision.action == "SUPPRESSED"


# -- the clock moved back -------------------------------------------------------------------

HOUR = timedelta(hours=1)


def test_clock_set_back_a_day_sends_nothing_until_the_cooldown_passed_in_real_time(tmp_path):
    path = tmp_path / "wk.db"

    def run(now: datetime):  # each run a new process: only the database file remembers
        database = open_db(path)
        try:
            return Dispatcher(database).dispatch("stale_applications", [A], DAY, now).decision
        finally:
            database.close()

    def sent_count() -> int:
        database = open_db(path)
        try:
            return len(notifications(database))
        finally:
            database.close()

    assert run(NOW).action == "SENT"
    back = NOW + 6 * HOUR - DAY  # six hours after the SENT the clock is set back a day
    # ten runs over 22.5 h of real time; from the 8th on, the wall clock is past the old SENT again
    actions = [run(back + k * timedelta(minutes=150)).action for k in range(10)]
    assert actions == ["SUPPRESSED"] * 10 and sent_count() == 1
    assert run(back + DAY - timedelta(seconds=1)).action == "SUPPRESSED"
    assert run(back + DAY).action == "SENT"  # one cooldown of real time after the jump was noticed
    assert run(back + DAY + HOUR).text == "SUPPRESSED (1h into 24h cooldown)"
    assert sent_count() == 2


def test_clock_corrected_forward_after_going_back_does_not_send_early(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A], DAY, NOW)
    back = NOW + HOUR - DAY  # an hour after the SENT the clock is set back a day
    clock = {"wall": back, "mono": 1000.0}
    heartbeat = Heartbeat(db, 60, wall=lambda: clock["wall"], mono=lambda: clock["mono"])
    heartbeat.start_instance()
    assert d.dispatch("stale_applications", [A], DAY, back).decision.action == "SUPPRESSED"
    clock.update(wall=back + HOUR, mono=1000.0 + 3600)
    heartbeat.beat()
    clock.update(wall=NOW + 2 * HOUR, mono=1000.0 + 3660)  # NTP puts the clock right again
    assert heartbeat.beat() is not None  # seen as a gap: the wall clock moved, the beats did not
    result = d.dispatch("stale_applications", [A], DAY, NOW + 2 * HOUR)
    assert result.decision.action == "SUPPRESSED" and len(notifications(db)) == 1
    assert d.dispatch("stale_applications", [A], DAY, NOW + DAY - HOUR).decision.action == "SUPPRESSED"
    assert d.dispatch("stale_applications", [A], DAY, NOW + DAY).decision.action == "SENT"


def test_explain_says_the_clock_moved_back(db):
    d = Dispatcher(db)
    sent_at = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
    d.dispatch("stale_applications", [A], DAY, sent_at)
    d.dispatch("stale_applications", [A], DAY, sent_at - DAY)  # the clock set back a day: noticed here
    text = d.explain("stale_applications", DAY, sent_at - DAY + 3 * HOUR, timezone.utc).text()
    assert text == (
        "Check: stale_applications\n"
        "  Last notified: 2026-12-02 09:00:00 UTC\n"
        "  Cooldown: 24 hours\n"
        "  Current time: 2026-12-01 12:00:00 UTC\n"
        "  Result: SUPPRESSED (clock moved back: last notified 2026-12-02 09:00 UTC is in the future;"
        " suppressed until 24h have passed since 2026-12-01 09:00 UTC, 3h so far)"
    )
    assert len(notifications(db)) == 1


def test_snooze_is_not_stretched_by_the_clock_going_back(db):
    d = Dispatcher(db)
    d.dispatch("stale_applications", [A], DAY, NOW)
    alert = store.list_alerts(db)[0]
    store.snooze(db, alert.id, NOW + 2 * HOUR, NOW)  # snoozed for 2 h
    back = NOW + timedelta(minutes=10) - DAY  # ten minutes later the clock is set back a day
    assert d.dispatch("stale_applications", [A], DAY, back).decision is None
    rebased = store.get_alert(db, alert.id)
    assert (rebased.state, rebased.snoozed_at, rebased.snoozed_until) == ("snoozed", back, back + 2 * HOUR)
    assert d.dispatch("stale_applications", [A], DAY, back + 2 * HOUR - timedelta(seconds=1)).decision is None
    result = d.dispatch("stale_applications", [A], DAY, back + 2 * HOUR)  # not a day and 2 h later
    assert result.decision is not None and store.get_alert(db, alert.id).state == "open"


def test_deferred_digest_is_not_lost_when_the_clock_went_back(db):
    d = Dispatcher(db, quiet=QUIET)
    assert d.dispatch("stale_applications", [A], HOUR, local(20, day=23)).decision.action == "SENT"
    # the clock is set back a day; an hour-long cooldown passes in real time, then quiet hours begin
    assert d.dispatch("stale_applications", [A], HOUR, local(21)).decision.action == "SUPPRESSED"
    assert d.dispatch("stale_applications", [A], HOUR, local(23)).decision.action == "DEFERRED"
    assert d.flush_deferred(local(3, day=23)) is None  # still quiet
    assert d.flush_deferred(local(7, day=23)) is not None  # although the last SENT is stamped 20:00 tonight
    assert [n[0] for n in notifications(db)] == ["alert", "digest"]
    half_past = local(7, day=23) + timedelta(minutes=30)
    assert d.dispatch("stale_applications", [A], HOUR, half_past).decision.text == "SUPPRESSED (30m into 1h cooldown)"


def test_retention_keeps_the_latest_sent_of_every_check(db):
    d = Dispatcher(db)
    d.dispatch("goal_staleness", [A], 7 * DAY, NOW - 400 * DAY)
    d.dispatch("goal_staleness", [A], 7 * DAY, NOW - 399 * DAY)  # SUPPRESSED
    assert prune_heartbeat_log(db, NOW, retention=90 * DAY, longest_cooldown=7 * DAY) == 1
    assert decisions(db) == [("SENT", "first notification")]
