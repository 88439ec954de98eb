"""`watchkeeper demo`: sample data so every DB-backed built-in check has something to find."""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine.timeutil import to_db


def load_demo(db: SqliteDatabase, now: datetime) -> dict[str, int]:
    """Insert a stale and a fresh application, a stalled and a live work session, a stale and a
    fresh goal. Idempotent: demo rows are recognised by their names and not duplicated."""
    counts = {"applications": 0, "work_sessions": 0, "goals": 0}
    with db.atomic("IMMEDIATE"):
        for company, role, days in (("Acme Corp", "Backend Engineer", 9), ("Globex", "SRE", 2)):
            exists = db.execute_sql("SELECT 1 FROM applications WHERE company = ? AND role = ?",
                                    (company, role)).fetchone()
            if not exists:
                at = to_db(now - timedelta(days=days))
                db.execute_sql("INSERT INTO applications (company, role, status, applied_at, updated_at, notes)"
                               " VALUES (?, ?, 'applied', ?, ?, 'demo')", (company, role, at, at))
                counts["applications"] += 1
        for name, minutes, reason in (("Demo: refactor billing", 45, "tool call without result: Bash"),
                                      ("Demo: write docs", 5, None)):
            exists = db.execute_sql("SELECT 1 FROM work_sessions WHERE name = ?", (name,)).fetchone()
            if not exists:
                db.execute_sql(
                    "INSERT INTO work_sessions (name, source, started_at, last_activity_at, status, interrupted_reason)"
                    " VALUES (?, 'demo', ?, ?, 'active', ?)",
                    (name, to_db(now - timedelta(minutes=minutes + 60)), to_db(now - timedelta(minutes=minutes)),
                     reason))
                counts["work_sessions"] += 1
        db.execute_sql("INSERT OR IGNORE INTO life_domains (name, description, created_at) VALUES (?, ?, ?)",
                       ("Health", "demo", to_db(now - timedelta(days=60))))
        domain_id = db.execute_sql("SELECT id FROM life_domains WHERE name = 'Health'").fetchone()[0]
        for title, created_days, progress_days in (("Run a half marathon", 60, 20), ("Sleep 8 hours", 30, 1)):
            exists = db.execute_sql("SELECT 1 FROM life_goals WHERE title = ?", (title,)).fetchone()
            if not exists:
                cursor = db.execute_sql(
                    "INSERT INTO life_goals (domain_id, title, status, created_at, last_progress_at)"
                    " VALUES (?, ?, 'active', ?, ?)",
                    (domain_id, title, to_db(now - timedelta(days=created_days)),
                     to_db(now - timedelta(days=progress_days))))
                db.execute_sql("INSERT INTO life_goal_metrics (goal_id, ts, value, note) VALUES (?, ?, 1, 'demo')",
                               (cursor.lastrowid, to_db(now - timedelta(days=progress_days))))
                counts["goals"] += 1
    return counts
