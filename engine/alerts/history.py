"""The alert pipeline over time, read-only: how many alerts a check raised since a moment, and the
newest notification decisions (``heartbeat_log``) after a cursor, for the activity feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from engine.timeutil import to_db


def raised_since(db: SqliteDatabase, check: str, since: datetime) -> int:
    """How many alerts ``check`` opened at or after ``since`` (resolved ones included)."""
    return int(db.execute_sql("SELECT count(*) FROM alerts WHERE check_name = ? AND opened_at >= ?",
                              (check, to_db(since))).fetchone()[0])


@dataclass(frozen=True)
class DecisionRow:
    """One recorded notification decision (SENT / SUPPRESSED / DEFERRED / RECOVERY)."""

    id: int
    check: str
    ts: str
    decision: str
    reason: str
    subjects: int
    notification_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def decisions_after(db: SqliteDatabase, after_id: int, limit: int) -> list[DecisionRow]:
    """The newest ``limit`` decisions with an id above ``after_id``, newest first."""
    rows = db.execute_sql("SELECT id, check_name, ts, decision, reason, subjects, notification_id FROM heartbeat_log"
                          " WHERE id > ? ORDER BY id DESC LIMIT ?", (after_id, limit)).fetchall()
    return [DecisionRow(*r) for r in rows]


def latest_decision_id(db: SqliteDatabase) -> int:
    """The highest decision id recorded (0 when none)."""
    return int(db.execute_sql("SELECT coalesce(max(id), 0) FROM heartbeat_log").fetchone()[0])
