#!/usr/bin/env python3
"""Server time of the dashboard's queries on a big database.

Fills a real SQLite file (once; reused when present and --fresh is not given) with 1,000,000
check runs and as many heartbeat_log decisions spread over the configured checks (one every 5 min
per check, going back from now), 10,000 alerts with a notification each (plus a recovery for
the resolved half), two outbox rows per notification and their delivery attempts, an archive of
500 sessions with 40 prompts each, and 60 goals; all with executemany in one transaction. Then
times each dashboard action (p50 / p95 over --calls calls, after one untimed call) and prints them
with the targets: the overview's check rows and the alerts page p95 < 50 ms, as rendering comes
on top.

    .venv/bin/python bench/dashboard.py [--db /tmp/wk-dashboard-bench.db] [--calls 50] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RUNS = 1_000_000
ALERTS = 10_000
CHANNELS = ("toast", "telegram")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)


def _ts(dt: datetime) -> str:
    from engine.timeutil import to_db

    return to_db(dt)


def fill(db: Any, checks: list[str]) -> None:
    """The rows described in the module docstring, in one transaction."""
    per_check = RUNS // len(checks)
    runs, decisions = [], []
    for c, name in enumerate(checks):
        for i in range(per_check):
            started = NOW - STEP * (per_check - i) + timedelta(seconds=c)
            stamp = _ts(started)
            outcome = "error" if i % 97 == 0 else ("firing" if i % 7 == 0 else "ok")
            runs.append((name, stamp, stamp, outcome, int(outcome == "firing"), "[]" if outcome != "firing" else
                         json.dumps([{"subject": f"s{i % 50}", "severity": "warning", "title": "t", "detail": ""}]),
                         "boom" if outcome == "error" else None, "schedule"))
            decisions.append((name, stamp, "SENT" if i % 5 == 0 else "SUPPRESSED", "within cooldown", 1, None))
    alerts, notifications, outbox, attempts = [], [], [], []
    span = STEP * per_check
    for a in range(1, ALERTS + 1):
        name = checks[a % len(checks)]
        opened = NOW - span + span * a / (ALERTS + 1)
        resolved = opened + timedelta(hours=3) if a % 2 == 0 and a < ALERTS - 50 else None
        state = "resolved" if resolved else ("acknowledged" if a % 3 == 0 else ("snoozed" if a % 3 == 1 else "open"))
        alerts.append((name, f"subject-{a}", "warning", f"alert {a}", "detail", state, _ts(opened), _ts(opened),
                       _ts(resolved) if resolved else None, _ts(opened), _ts(opened), 1))
        for kind, at in [("alert", opened)] + ([("recovery", resolved)] if resolved else []):
            nid = len(notifications) + 1
            notifications.append((nid, name, kind, "warning", f"{kind} {a}", "body", json.dumps([a]), _ts(at)))
            for channel in CHANNELS:
                oid = len(outbox) + 1
                failed = oid % 50 == 0
                outbox.append((oid, nid, channel, f"{nid}:{channel}", "failed" if failed else "sent", 1 + failed,
                               _ts(at), _ts(at), None if failed else _ts(at), "HTTP 400" if failed else None))
                attempts.append((oid, _ts(at), int(not failed), "HTTP 400" if failed else None, int(failed)))
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO check_runs (check_name, started_at, finished_at, outcome, findings, findings_json, error,"
            " trigger) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runs)
        db.cursor().executemany(
            "INSERT INTO heartbeat_log (check_name, ts, decision, reason, subjects, notification_id)"
            " VALUES (?, ?, ?, ?, ?, ?)", decisions)
        db.cursor().executemany(
            "INSERT INTO alerts (check_name, subject, severity, title, detail, state, opened_at, last_seen_at,"
            " resolved_at, first_notified_at, last_notified_at, notify_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            alerts)
        db.cursor().executemany(
            "INSERT INTO notifications (id, check_name, kind, severity, title, body, alert_ids, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", notifications)
        db.cursor().executemany(
            "INSERT INTO outbox (id, notification_id, channel, idempotency_key, state, attempts, created_at,"
            " next_attempt_at, sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outbox)
        db.cursor().executemany(
            "INSERT INTO delivery_attempts (outbox_id, ts, ok, error, permanent) VALUES (?, ?, ?, ?, ?)", attempts)
        fill_archive(db)
        fill_goals(db)
    db.execute_sql("ANALYZE")


def fill_archive(db: Any) -> None:
    sessions, entries, messages = [], [], []
    for s in range(500):
        start = NOW - timedelta(hours=9 * (500 - s))
        sid = f"session-{s:04d}"
        sessions.append((sid, "claude", _ts(start), _ts(start + timedelta(hours=1)), 40, _ts(start), _ts(start)))
        for p in range(40):
            at = _ts(start + timedelta(minutes=p))
            entries.append((f"{sid}:{p}", sid, 1, p * 100, p, "prompt", at, f"prompt {p}"))
            messages.append((sid, f"m{p}", at, at, 100, 200, 1000, 50))
    db.cursor().executemany(
        "INSERT INTO conversation_archive_sessions (session_id, source, first_ts, last_ts, human_prompts, archived_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", sessions)
    db.cursor().executemany(
        "INSERT INTO archive_entries (entry_key, session_id, file_id, byte_offset, line_no, kind, ts, text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entries)
    db.cursor().executemany(
        "INSERT INTO archive_messages (session_id, message_id, first_ts, last_ts, input_tokens, output_tokens,"
        " cache_read_tokens, cache_creation_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", messages)


def fill_goals(db: Any) -> None:
    db.execute_sql("INSERT INTO life_domains (name, created_at) VALUES ('Health', ?), ('Career', ?)",
                   (_ts(NOW), _ts(NOW)))
    goals = [(1 + g % 2, f"goal {g}", _ts(NOW - timedelta(days=g))) for g in range(60)]
    db.cursor().executemany("INSERT INTO life_goals (domain_id, title, created_at) VALUES (?, ?, ?)", goals)
    subs = [(1 + g, f"step {k}", _ts(NOW)) for g in range(60) for k in range(3)]
    db.cursor().executemany("INSERT INTO life_sub_goals (goal_id, title, created_at) VALUES (?, ?, ?)", subs)
    progress = [(1 + g % 60, _ts(NOW - timedelta(days=g % 40)), None) for g in range(600)]
    db.cursor().executemany("INSERT INTO life_goal_metrics (goal_id, ts, note) VALUES (?, ?, ?)", progress)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 95)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/wk-dashboard-bench.db"))
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--fresh", action="store_true", help="refill the database even when it exists")
    args = parser.parse_args()

    from engine.actions import activity, alert_list, archive_activity, delivery_overview, goals_board, history, overview
    from engine.actions.target import Offline
    from engine.compose import config_sections
    from engine.config import parse_config
    from engine.store.db import connection
    from engine.units import CHANNELS, UNITS, open_db

    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
    new = not args.db.exists()
    db = open_db(args.db)
    config = parse_config({"api": {"enabled": False}, "archive": {"enabled": False}}, {},
                          sections=config_sections(CHANNELS))
    target = Offline(db, config, UNITS, now=lambda: NOW)
    assert target.checks is not None
    checks = list(target.checks.definitions)
    if new:
        start = time.perf_counter()
        with connection(db):
            fill(db, checks)
        print(f"filled {args.db} in {time.perf_counter() - start:.1f} s ({len(checks)} checks)")
    one = checks[0]
    with connection(db):
        last_feed = activity.feed(target).cursor
    cases: list[tuple[str, Callable[[], object], float | None]] = [
        ("overview: check rows (24 h + 7 d strips, last/next run)", lambda: overview.check_rows(target), 50),
        ("alerts page (newest 50, deliveries per channel)", lambda: alert_list.alert_rows(target), 50),
        ("alerts page filtered (open, one check)", lambda: alert_list.alert_rows(target, state="open", check=one), 50),
        ("alerts page 100 (offset 5000)", lambda: alert_list.alert_rows(target, offset=5000), 50),
        ("check: strip 30 d", lambda: history.status_strip(target, one, "30d"), None),
        ("check: uptime 24 h / 7 d / 30 d", lambda: history.uptime(target, one), None),
        ("check: decisions page 1", lambda: history.decisions(target, one), None),
        ("check: decisions page 100", lambda: history.decisions(target, one, offset=5000), None),
        ("check: last run and findings", lambda: history.last_run(target, one), None),
        ("activity feed (newest 50)", lambda: activity.feed(target), None),
        ("activity feed after cursor (live)", lambda: activity.feed(target, after=last_feed), None),
        ("delivery overview", lambda: delivery_overview.delivery_overview(target), None),
        ("archive heatmap (182 days)", lambda: archive_activity.heatmap(target), None),
        ("archive tokens per day (30 days)", lambda: archive_activity.token_usage(target), None),
        ("goals board", lambda: goals_board.goals_board(target), None),
    ]
    print(f"{'action':58} {'p50 ms':>8} {'p95 ms':>8}  target")
    failed = False
    for name, fn, target_ms in cases:
        p50, p95 = timed(fn, args.calls)
        verdict = ""
        if target_ms is not None:
            ok = p95 < target_ms
            failed |= not ok
            verdict = f"p95 < {target_ms:g} ms: {'ok' if ok else 'MISSED'}"
        print(f"{name:58} {p50:8.2f} {p95:8.2f}  {verdict}")
    db.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
