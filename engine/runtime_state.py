"""Small persistent runtime values (pause-until, check baselines): the runtime_state table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from peewee import SqliteDatabase

from engine.timeutil import from_db, to_db, utcnow


def get_value(db: SqliteDatabase, key: str) -> str | None:
    """The stored value for ``key`` (None when unset)."""
    row = db.execute_sql("SELECT value FROM runtime_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_value(db: SqliteDatabase, key: str, value: str | None, now: datetime | None = None) -> None:
    """Store (or clear, with None) a value."""
    if value is None:
        db.execute_sql("DELETE FROM runtime_state WHERE key = ?", (key,))
        return
    db.execute_sql(
        "INSERT INTO runtime_state (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, to_db(now or utcnow())),
    )


def paused_until(db: SqliteDatabase, now: datetime) -> datetime | None:
    """The pause end when alerts are paused at ``now``, else None."""
    value = get_value(db, "paused_until")
    if not value:
        return None
    until = from_db(value)
    return until if until > now else None


def set_paused_until(db: SqliteDatabase, until: datetime | None) -> None:
    """Pause alerts until ``until`` (None resumes)."""
    set_value(db, "paused_until", to_db(until) if until else None)


def get_or_create(db: SqliteDatabase, key: str, make: Callable[[], str]) -> str:
    """The stored value for ``key``; stores ``make()`` first when unset (the first writer wins)."""
    value = get_value(db, key)
    if value is not None:
        return value
    db.execute_sql("INSERT OR IGNORE INTO runtime_state (key, value, updated_at) VALUES (?, ?, ?)",
                   (key, make(), to_db(utcnow())))
    stored = get_value(db, key)
    assert stored is not None
    return stored
