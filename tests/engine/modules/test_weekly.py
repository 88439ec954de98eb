"""Weekly duties on a real database: digest (Telegram only), pruning, backups, integrity."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from engine.alerts.dispatcher import Dispatcher
from engine.delivery.service import outbox_hook
from engine.modules.weekly import backup_database, digest_text, weekly_job, weekly_summary
from engine.timeutil import to_db
from engine.units import CHANNELS
from tests.helpers import parse_config

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def test_weekly_job_queues_a_telegram_only_digest_prunes_and_backs_up(tmp_path, db):
    config = parse_config({"telegram": {"token": TOKEN, "chat_id": "42"}}, env={})
    dispatcher = Dispatcher(db, on_queue=[outbox_hook(config, lambda: NOW, CHANNELS)])
    db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason) VALUES ('x', ?, 'SENT', 'old')",
                   (to_db(NOW - timedelta(days=400)),))
    db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason) VALUES ('x', ?, 'SENT', 'new')",
                   (to_db(NOW - timedelta(days=3)),))
    db_path = tmp_path / "test.db"
    done = weekly_job(db, dispatcher, db_path=db_path, backup_dir=tmp_path / "backups", now=NOW, keep_backups=2,
                      retention=timedelta(days=90), cooldowns=["24h", "7d"])
    assert done["integrity"] == "ok" and done["pruned"] == 1
    [(kind, title)] = db.execute_sql("SELECT kind, title FROM notifications WHERE kind = 'weekly'").fetchall()
    assert title == "Watchkeeper weekly digest, week of 2026-11-29"
    channels = db.execute_sql("SELECT o.channel FROM outbox o JOIN notifications n ON n.id = o.notification_id"
                              " WHERE n.kind = 'weekly'").fetchall()
    assert channels == [("telegram",)]
    with sqlite3.connect(done["backup"]) as copy:
        assert copy.execute("SELECT count(*) FROM heartbeat_log").fetchone()[0] == 1


def test_backups_keep_only_the_newest_n(tmp_path, db):
    db_path = tmp_path / "test.db"
    for day in range(4):
        backup_database(db_path, tmp_path / "b", NOW + timedelta(days=day), keep=2)
    assert [p.name for p in sorted((tmp_path / "b").iterdir())] == [
        "watchkeeper-20261201-030000.db", "watchkeeper-20261202-030000.db"]


def test_integrity_failure_raises_a_critical_alert(tmp_path, db, monkeypatch):
    import engine.modules.weekly as weekly

    monkeypatch.setattr(weekly, "integrity_problem", lambda database: "row 3 missing from index")
    done = weekly_job(db, Dispatcher(db), db_path=tmp_path / "test.db", backup_dir=tmp_path / "b", now=NOW,
                      keep_backups=2, retention=timedelta(days=90), cooldowns=[])
    assert done["integrity"] == "row 3 missing from index" and "backup" not in done
    assert db.execute_sql("SELECT check_name, severity, title FROM alerts").fetchall() == [
        ("database_integrity", "critical", "Database integrity check failed")]


def test_digest_counts_the_week(db):
    db.execute_sql("INSERT INTO alerts (check_name, subject, severity, title, state, opened_at, last_seen_at)"
                   " VALUES ('c', 's', 'warning', 't', 'open', ?, ?)", (to_db(NOW - timedelta(days=1)),) * 2)
    text = digest_text(weekly_summary(db, NOW))
    assert "Alerts: 1 raised, 0 resolved, 1 still open" in text


def _history(db, days: int) -> None:
    """A decision and a check run on each of the last ``days`` days before NOW."""
    for day in range(1, days + 1):
        ts = to_db(NOW - timedelta(days=day))
        db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason)"
                       " VALUES ('x', ?, 'SUPPRESSED', 'r')", (ts,))
        db.execute_sql("INSERT INTO check_runs (check_name, started_at, finished_at, outcome) VALUES ('x', ?, ?, 'ok')",
                       (ts, ts))


def _counts(db) -> tuple[int, int]:
    return (db.execute_sql("SELECT count(*) FROM heartbeat_log").fetchone()[0],
            db.execute_sql("SELECT count(*) FROM check_runs").fetchone()[0])


def _weekly(tmp_path, db, now):
    return weekly_job(db, Dispatcher(db), db_path=tmp_path / "test.db", backup_dir=tmp_path / "b", now=now,
                      keep_backups=2, retention=timedelta(days=90), cooldowns=["24h"])


def test_a_clock_set_far_forward_prunes_no_history(tmp_path, db):
    _history(db, 60)
    assert _weekly(tmp_path, db, datetime(2031, 6, 1, 3, 0, tzinfo=timezone.utc))["pruned"] == 0
    assert _counts(db) == (60, 60)
    # a second jump cannot build on the first, and the right clock again prunes as usual
    assert _weekly(tmp_path, db, datetime(2032, 6, 1, 3, 0, tzinfo=timezone.utc))["pruned"] == 0
    assert _weekly(tmp_path, db, NOW + timedelta(days=7))["pruned"] == 0
    assert _counts(db) == (60, 60)


def test_weekly_pruning_still_drops_what_is_older_than_the_retention(tmp_path, db):
    _history(db, 100)
    assert _weekly(tmp_path, db, NOW)["pruned"] == 10
    assert _weekly(tmp_path, db, NOW + timedelta(days=7))["pruned"] == 7
    assert _counts(db) == (83, 83)
