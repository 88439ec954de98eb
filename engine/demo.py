"""`watchkeeper demo`: sample data so every DB-backed built-in check has something to find."""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine.life import applications, goals, work_sessions


def load_demo(db: SqliteDatabase, now: datetime) -> dict[str, int]:
    """Insert a stale and a fresh application, a stalled and a live work session, a stale and a
    fresh goal. Idempotent: demo rows are recognised by their names and not duplicated."""
    counts = {"applications": 0, "work_sessions": 0, "goals": 0}
    with db.atomic("IMMEDIATE"):
        for company, role, days in (("Acme Corp", "Backend Engineer", 9), ("Globex", "SRE", 2)):
            if not applications.exists(db, company, role):
                applications.create(db, company=company, role=role, now=now - timedelta(days=days), notes="demo")
                counts["applications"] += 1
        for name, minutes, reason in (("Demo: refactor billing", 45, "tool call without result: Bash"),
                                      ("Demo: write docs", 5, None)):
            if not work_sessions.exists_named(db, name):
                work_sessions.start(db, name=name, source="demo", now=now - timedelta(minutes=minutes + 60),
                                    last_activity_at=now - timedelta(minutes=minutes), interrupted_reason=reason)
                counts["work_sessions"] += 1
        domain = goals.ensure_domain(db, name="Health", description="demo", now=now - timedelta(days=60))
        for title, created_days, progress_days in (("Run a half marathon", 60, 20), ("Sleep 8 hours", 30, 1)):
            if not goals.exists_titled(db, title):
                goal = goals.create(db, title=title, now=now - timedelta(days=created_days), domain_id=domain.id)
                goals.add_progress(db, goal.id, now=now - timedelta(days=progress_days), value=1, note="demo")
                counts["goals"] += 1
    return counts
