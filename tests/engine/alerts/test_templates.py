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
    assert render(db, "alert.title", "stale_applications", count=2) == "Stale applications: 2 need attention"


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
