"""discovered_events: what modules notice, recorded whether or not it leads to a notification."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from engine.timeutil import to_db
from engine.vocabulary import Severity


def record_event(
    db: SqliteDatabase,
    *,
    ts: datetime,
    source: str,
    kind: str,
    subject: str | None = None,
    severity: str = Severity.INFO,
    detail: dict[str, Any] | None = None,
) -> int:
    """Insert one event and return its id."""
    cursor = db.execute_sql(
        "INSERT INTO discovered_events (ts, source, kind, subject, severity, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (to_db(ts), source, kind, subject, severity, json.dumps(detail) if detail else None),
    )
    return int(cursor.lastrowid)
