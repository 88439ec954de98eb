"""`watchkeeper demo`: sample data so every DB-backed built-in check has something to find, and
`demo --remove` to take exactly that data out again.

Every row the demo inserts is written down (runtime_state ``demo.rows``: the ids per kind) in the
same transaction; removal deletes those rows and nothing else, so an application, goal or domain
the person added, even one named like a sample, stays. Data loaded before the demo kept that record
is recognised by its sample names together with its "demo" marks (notes, source, first progress note).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine import runtime_state
from engine.life import applications, goals, work_sessions
from engine.life.errors import LifeError

RECORD_KEY = "demo.rows"
MARK = "demo"  # the notes / source / description / progress note of every sample row
KINDS = ("applications", "work_sessions", "goals", "domains")
APPLICATIONS = (("Acme Corp", "Backend Engineer", 9), ("Globex", "SRE", 2))  # company, role, days ago
SESSIONS = (("Demo: refactor billing", 45, "tool call without result: Bash"),  # name, idle minutes, reason
            ("Demo: write docs", 5, None))
DOMAIN = "Health"
GOALS = (("Run a half marathon", 60, 20), ("Sleep 8 hours", 30, 1))  # title, created / progress days ago


def _recorded(db: SqliteDatabase) -> dict[str, list[int]] | None:
    stored = runtime_state.get_value(db, RECORD_KEY)
    if stored is None:
        return None
    try:
        data = json.loads(stored)
        return {kind: [int(i) for i in data.get(kind, [])] for kind in KINDS}
    except (ValueError, TypeError, AttributeError):
        return None  # unreadable: fall back to the marks


def load_demo(db: SqliteDatabase, now: datetime) -> dict[str, int]:
    """Insert a stale and a fresh application, a stalled and a live work session, a stale and a
    fresh goal. Idempotent: demo rows are recognised by their names and not duplicated."""
    counts = {"applications": 0, "work_sessions": 0, "goals": 0}
    with db.atomic("IMMEDIATE"):
        record = _recorded(db) or {kind: [] for kind in KINDS}
        for company, role, days in APPLICATIONS:
            if not applications.exists(db, company, role):
                app = applications.create(db, company=company, role=role, now=now - timedelta(days=days), notes=MARK)
                record["applications"].append(app.id)
                counts["applications"] += 1
        for name, minutes, reason in SESSIONS:
            if not work_sessions.exists_named(db, name):
                session = work_sessions.start(db, name=name, source=MARK, now=now - timedelta(minutes=minutes + 60),
                                              last_activity_at=now - timedelta(minutes=minutes),
                                              interrupted_reason=reason)
                record["work_sessions"].append(session.id)
                counts["work_sessions"] += 1
        domain = goals.domain_named(db, DOMAIN)
        if domain is None:
            domain = goals.create_domain(db, name=DOMAIN, description=MARK, now=now - timedelta(days=60))
            record["domains"].append(domain.id)
        for title, created_days, progress_days in GOALS:
            if not goals.exists_titled(db, title):
                goal = goals.create(db, title=title, now=now - timedelta(days=created_days), domain_id=domain.id)
                goals.add_progress(db, goal.id, now=now - timedelta(days=progress_days), value=1, note=MARK)
                record["goals"].append(goal.id)
                counts["goals"] += 1
        runtime_state.set_value(db, RECORD_KEY, json.dumps(record), now)
    return counts


def _marked(db: SqliteDatabase) -> dict[str, list[int]]:
    """The sample rows of a demo loaded before its rows were recorded: sample names with the demo marks."""
    found: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for company, role, _ in APPLICATIONS:
        found["applications"] += [a.id for a in applications.list_page(db, company=company, limit=1000).items
                                  if (a.company, a.role, a.notes) == (company, role, MARK)]
    names = {name for name, _, _ in SESSIONS}
    found["work_sessions"] = [s.id for s in work_sessions.list_page(db, limit=10_000).items
                              if s.name in names and s.source == MARK]
    titles = {title for title, _, _ in GOALS}
    for goal in goals.list_page(db, limit=10_000).items:
        if goal.title in titles and any(p.note == MARK for p in goals.list_progress(db, goal.id, limit=1000).items):
            found["goals"].append(goal.id)
    domain = goals.domain_named(db, DOMAIN)
    if domain is not None and domain.description == MARK:
        found["domains"].append(domain.id)
    return found


def remove_demo(db: SqliteDatabase) -> dict[str, int]:
    """Delete the sample rows the demo inserted (and nothing else); how many of each kind went.

    A sample domain stays while a goal of the person's own is in it."""
    counts = {"applications": 0, "work_sessions": 0, "goals": 0}
    with db.atomic("IMMEDIATE"):
        rows = _recorded(db)
        if rows is None:
            rows = _marked(db)
        deletes = (("applications", applications.delete), ("work_sessions", work_sessions.delete),
                   ("goals", goals.delete))
        for kind, delete in deletes:
            for row_id in rows[kind]:
                try:
                    delete(db, row_id)
                except LifeError:  # the person deleted it already
                    continue
                counts[kind] += 1
        existing = {d.id for d in goals.list_domains(db)}
        kept = [d for d in rows["domains"] if d in existing and not goals.delete_domain_if_unused(db, d)]
        runtime_state.set_value(db, RECORD_KEY, json.dumps({"domains": kept}) if kept else None)
    return counts
