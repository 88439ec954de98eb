"""Wording comes from personality_config, per check first, defaults in code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.alerts.dispatcher import Dispatcher
from engine.alerts.templates import render
from engine.findings import Finding

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def _set(db, key: str, value: str) -> None:
    db.execute_sql("INSERT INTO personality_config (key, value, updated_at) VALUES (?, ?, '2026-01-01')",
                   (key, value))


def test_default_wording_without_overrides(db):
    assert render(db, "alert.title", "stale_applications", count=2) == "2 applications with no answer"
    assert render(db, "alert.title", "my_backup_check", count=2) == "My backup check: 2 need attention"


def test_titles_say_what_happened_not_the_check_name(db):
    d = Dispatcher(db)
    d.dispatch("session_crash", [Finding("session:1", "warning", "No activity in session 'thesis' for 45 min",
                                         "last activity 13:05")], timedelta(hours=1), NOW)
    d.dispatch("stale_applications", [Finding(f"app:{n}", "warning", f"Role {n}: no answer for 14 days")
                                      for n in range(3)], timedelta(hours=1), NOW)
    rows = db.execute_sql("SELECT title, body FROM notifications ORDER BY id").fetchall()
    assert rows[0] == ("No activity in session 'thesis' for 45 min", "last activity 13:05")
    assert rows[1][0] == "3 applications with no answer"
    assert all("session_crash" not in t and "stale_applications" not in t and "Session crash" not in t
               for t, _ in rows)


def test_user_changes_tone_globally_and_per_check(db):
    _set(db, "template.alert.title", "Heads up — {label} ({count})")
    _set(db, "template.alert.title.goal_staleness", "Gentle nudge: {count} goal(s) waiting")
    d = Dispatcher(db)
    d.dispatch("stale_applications", [Finding("a", "warning", "A")], timedelta(hours=1), NOW)
    d.dispatch("goal_staleness", [Finding("g", "info", "G")], timedelta(hours=1), NOW)
    titles = [r[0] for r in db.execute_sql("SELECT title FROM notifications ORDER BY id")]
    assert titles == ["Heads up — Stale applications (1)", "Gentle nudge: 1 goal(s) waiting"]


def test_unknown_placeholders_stay_visible_instead_of_failing(db):
    _set(db, "template.alert.title", "{label}: {nonsense}")
    assert render(db, "alert.title", "disk_space", count=1) == "Disk space: {nonsense}"
