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


def _archive_usage(db, root) -> None:
    """Claude Code and Codex logs under ``root`` through the real ingest into ``db``: in the week before NOW
    (22-28 Nov) two projects and two models, plus a message on each side of the week that must not count."""
    from engine.archive import service
    from tests.engine.archive.usage_logs import assistant, claude_file, codex_file, token_count, turn_context

    sid, codex_sid = "aaaaaaaa-0000-4000-8000-000000000001", "c0dec000-0000-4000-8000-0000000000aa"
    big = {"input_tokens": 1000, "output_tokens": 2000, "cache_read_input_tokens": 3_000_000,
           "cache_creation_input_tokens": 40_000}
    claude_file(root, sid, [
        assistant(sid, "msg_0", uuid="u0", ts="2026-11-21T12:00:00.000Z", rid="r0"),  # the week before
        assistant(sid, "msg_1", uuid="u1", ts="2026-11-24T10:00:00.000Z", rid="r1", usage=big),
        assistant(sid, "msg_2", uuid="u2", ts="2026-11-26T10:00:00.000Z", rid="r2", model="claude-opus-4-1"),
        assistant(sid, "msg_3", uuid="u3", ts="2026-11-29T01:00:00.000Z", rid="r3"),  # the digest's own day
    ])
    codex_file(root, codex_sid, [
        turn_context("2026-11-25T09:00:00.000Z", "gpt-5-codex"),
        token_count("2026-11-25T09:00:05.000Z",
                    {"input_tokens": 500, "cached_input_tokens": 200, "output_tokens": 70, "total_tokens": 570},
                    {"input_tokens": 500, "cached_input_tokens": 200, "output_tokens": 70, "total_tokens": 570}),
    ])
    service.run_archive(db, [str(root)], tail_idle_seconds=0)


def test_digest_shows_the_weeks_token_usage_from_the_archive(tmp_path, db):
    _archive_usage(db, tmp_path / "logs")
    done = _weekly(tmp_path, db, NOW)
    [body] = db.execute_sql("SELECT body FROM notifications WHERE kind = 'weekly'").fetchone()
    usage = body[body.index("Token usage"):].splitlines()
    # Claude: 1,000 + 10 input, 2,000 + 100 output, 40,000 + 50 cache write, 3,000,000 + 1,000 cache read;
    # Codex: 300 input (500 less 200 cached), 70 output, 200 cache read
    assert usage[0].startswith("Token usage 22 Nov – 28 Nov: 1.3k input, 2.2k output, 40k cache write, "
                               "3M cache read; estimated $")
    assert "(prices of " in usage[0]
    assert usage[1] == "Busiest day: Tue 24 Nov (3M tokens)"
    assert usage[2].startswith("Top projects: ") and usage[2].count("(") == 2
    assert usage[3].startswith("Top models: claude-sonnet-4-5 (3M, $")
    assert "claude-opus-4-1 (1.2k" in usage[3] and "gpt-5-codex (570" in usage[3]
    assert done["digest"]["usage"] == "\n".join(usage)


def test_digest_has_no_usage_block_for_a_week_without_usage(tmp_path, db):
    _archive_usage(db, tmp_path / "logs")
    _weekly(tmp_path, db, NOW + timedelta(days=14))
    [body] = db.execute_sql("SELECT body FROM notifications WHERE kind = 'weekly'").fetchone()
    assert "Token usage" not in body and "Top models" not in body


def test_compact_counts_read_in_a_few_characters():
    from engine.modules.weekly_usage import compact

    assert [compact(n) for n in (950, 1000, 12_345, 4_500_000, 1_200_000_000)] == ["950", "1k", "12.3k", "4.5M", "1.2B"]
