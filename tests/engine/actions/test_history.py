"""engine.actions.history and overview: status strips, uptime, decisions and the last run, on a real
SQLite file with an injected clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from engine.actions import history, overview
from engine.actions.errors import Invalid, NotFound
from engine.actions.target import Offline
from engine.store.db import connection
from engine.timeutil import to_db
from engine.units import UNITS
from tests.engine.actions.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 10, tzinfo=timezone.utc)  # inside the 24 h strip's 12:00-12:30 bucket
CHECK = "stale_applications"


@pytest.fixture
def target(db) -> Offline:
    return Offline(db, quiet_config(), UNITS, now=lambda: NOW)


def run(db, at: datetime, outcome: str, check: str = CHECK, findings: list | None = None) -> None:
    with connection(db):
        db.execute_sql("INSERT INTO check_runs (check_name, started_at, finished_at, outcome, findings, findings_json)"
                       " VALUES (?, ?, ?, ?, ?, ?)", (check, to_db(at), to_db(at), outcome, len(findings or []),
                                                      json.dumps(findings or [])))


def test_strip_buckets_end_after_now_and_show_the_worst_outcome_with_counts(target, db):
    run(db, NOW - timedelta(minutes=5), "ok")  # last bucket 12:00-12:30
    run(db, NOW - timedelta(minutes=8), "firing")
    run(db, NOW - timedelta(hours=1), "ok")  # 11:00-11:30
    run(db, NOW - timedelta(hours=1, minutes=1), "error")
    run(db, NOW - timedelta(hours=1, minutes=2), "firing")
    run(db, NOW - timedelta(hours=30), "error")  # before the strip
    run(db, NOW - timedelta(minutes=5), "error", check="goal_staleness")  # another check
    strip = history.status_strip(target, CHECK, "24h")
    assert len(strip.buckets) == 48
    last, hour_ago = strip.buckets[-1], strip.buckets[-3]
    assert (last.start, last.end) == (datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc),
                                      datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc))
    assert strip.buckets[0].start == datetime(2026, 2, 28, 12, 30, tzinfo=timezone.utc)
    assert (last.worst, last.ok, last.alert, last.error) == ("alert", 1, 1, 0)
    assert (hour_ago.worst, hour_ago.runs) == ("error", 3)
    assert strip.buckets[-2].worst == "no run" and strip.failed == 2
    assert strip.to_dict()["buckets"][-1] == {"start": "2026-03-01T12:00:00.000000Z",
                                              "end": "2026-03-01T12:30:00.000000Z", "worst": "alert",
                                              "runs": 2, "ok": 1, "alert": 1, "error": 0}


def test_strips_have_a_fixed_number_of_buckets_per_span(target):
    assert [len(history.status_strip(target, CHECK, s).buckets) for s in ("24h", "7d", "30d")] == [48, 56, 60]
    week = history.status_strip(target, CHECK, "7d").buckets
    assert week[1].start - week[0].start == timedelta(hours=3) and week[-1].end > NOW


def test_strip_refuses_an_unknown_span_and_an_unknown_check(target):
    with pytest.raises(Invalid, match=r"^span must be one of 24h, 7d, 30d, not '1y'$"):
        history.status_strip(target, CHECK, "1y")
    with pytest.raises(NotFound, match="no check named 'nope'"):
        history.status_strip(target, "nope")


def test_uptime_counts_runs_and_alerts_raised_per_span(target, db):
    run(db, NOW - timedelta(hours=1), "ok")
    run(db, NOW - timedelta(hours=2), "firing")
    run(db, NOW - timedelta(days=3), "ok")
    run(db, NOW - timedelta(days=3), "error")
    run(db, NOW - timedelta(days=20), "ok")
    with connection(db):
        for opened in (NOW - timedelta(hours=2), NOW - timedelta(days=10)):
            db.execute_sql("INSERT INTO alerts (check_name, subject, severity, title, state, opened_at, last_seen_at)"
                           " VALUES (?, ?, 'warning', 't', 'resolved', ?, ?)",
                           (CHECK, f"s{opened.day}", to_db(opened), to_db(opened)))
    day, week, month = history.uptime(target, CHECK)
    assert (day.span, day.runs, day.ok, day.alert, day.share_ok, day.alerts_raised) == ("24h", 2, 1, 1, 0.5, 1)
    assert (week.runs, week.error, week.share_ok, week.alerts_raised) == (4, 1, 0.5, 1)
    assert (month.runs, month.share_ok, month.alerts_raised) == (5, 0.6, 2)
    assert history.uptime(target, "goal_staleness")[0].to_dict()["share_ok"] is None


def test_last_run_gives_its_findings_and_none_before_any_run(target, db):
    assert history.last_run(target, CHECK) is None
    run(db, NOW - timedelta(hours=1), "ok")
    run(db, NOW - timedelta(minutes=1), "firing", findings=[{"subject": "Acme", "title": "stale"}])
    last = history.last_run(target, CHECK)
    assert last is not None and last.outcome == "firing" and last.findings == ({"subject": "Acme", "title": "stale"},)


def test_decisions_are_the_checks_heartbeat_log_paged(target, db):
    with connection(db):
        for i in range(5):
            db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason) VALUES (?, ?, 'SENT', ?)",
                           (CHECK, to_db(NOW - timedelta(minutes=10 - i)), f"r{i}"))
    page = history.decisions(target, CHECK, limit=2, offset=1)
    assert page.total == 5 and [i["reason"] for i in page.items] == ["r3", "r2"]


def test_overview_rows_list_every_check_with_strips_and_last_run(target, db):
    run(db, NOW - timedelta(minutes=3), "firing", findings=[{"subject": "x"}])
    rows = {r.name: r for r in overview.check_rows(target)}
    assert list(rows) == list(target.checks.definitions)
    row = rows[CHECK].to_dict()
    assert set(row["strips"]) == {"24h", "7d"} and row["strips"]["24h"]["buckets"][-1]["worst"] == "alert"
    assert row["last_findings"] == 1 and row["last_run"]["outcome"] == "firing" and row["next_run"] is None
    assert rows["goal_staleness"].last_run is None


def test_overview_rows_share_one_database_connection_in_a_thread_without_one(target, db):
    import threading

    opened = []
    real_connect = db.connect

    def counting_connect(*args, **kwargs):
        opened.append(threading.get_ident())
        return real_connect(*args, **kwargs)

    db.connect = counting_connect  # the API's worker threads have no connection of their own
    worker = threading.Thread(target=lambda: overview.check_rows(target))
    try:
        worker.start()
        worker.join(30)
    finally:
        del db.connect
    assert len(opened) == 1
