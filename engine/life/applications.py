"""Job applications (the ``applications`` table): record, list, change, delete, and find the stale ones."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from engine.life.errors import invalid, not_found
from engine.life.paging import Filter, Page, Record, like_part, page
from engine.timeutil import to_db

APPLIED = "applied"  # waiting for an answer; the status stale_applications watches
CHANGEABLE = frozenset({"company", "role", "status", "applied_at", "url", "notes"})
REQUIRED = ("company", "role", "status", "applied_at")


@dataclass(frozen=True)
class Application(Record):
    """One application as stored (times are UTC text)."""

    id: int
    company: str
    role: str
    status: str
    applied_at: str
    updated_at: str
    url: str | None
    notes: str | None


_COLS = tuple(f.name for f in fields(Application))
_SELECT = f"SELECT {', '.join(_COLS)} FROM applications"


def get(db: SqliteDatabase, app_id: int) -> Application:
    """The application with this id (LifeError not-found else)."""
    row = db.execute_sql(f"{_SELECT} WHERE id = ?", (app_id,)).fetchone()
    if row is None:
        raise not_found(f"no application with id {app_id}")
    return Application(*row)


def create(db: SqliteDatabase, *, company: str, role: str, now: datetime, status: str = APPLIED,
           applied_at: datetime | None = None, url: str | None = None, notes: str | None = None) -> Application:
    """Record a job application (``applied_at`` defaults to ``now``)."""
    cursor = db.execute_sql(
        "INSERT INTO applications (company, role, status, applied_at, updated_at, url, notes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (company, role, status, to_db(applied_at or now), to_db(now), url, notes))
    return get(db, int(cursor.lastrowid))


def list_page(db: SqliteDatabase, *, status: str | None = None, company: str | None = None,
              limit: int = 100, offset: int = 0) -> Page[Application]:
    """Applications, oldest application first; ``company`` matches part of the name literally."""
    where = Filter()
    if status:
        where = where.where("status = ?", status)
    if company:
        where = where.where("company LIKE ? ESCAPE '\\'", like_part(company))
    return page(db, _COLS, "applications", where, "applied_at, id", limit, offset, Application)


def update(db: SqliteDatabase, app_id: int, changes: dict[str, Any], now: datetime) -> Application:
    """Change some fields of an application (``updated_at`` becomes ``now``)."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise invalid(f"cannot change {', '.join(sorted(unknown))}")
    for key in REQUIRED:
        if key in changes and changes[key] is None:
            raise invalid(f"{key} cannot be null")
    with db.atomic("IMMEDIATE"):
        get(db, app_id)
        values = {k: to_db(v) if isinstance(v, datetime) else v for k, v in changes.items()}
        values["updated_at"] = to_db(now)
        db.execute_sql(f"UPDATE applications SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                       (*values.values(), app_id))
        return get(db, app_id)


def delete(db: SqliteDatabase, app_id: int) -> None:
    """Delete an application (LifeError not-found when there is none)."""
    with db.atomic("IMMEDIATE"):
        get(db, app_id)
        db.execute_sql("DELETE FROM applications WHERE id = ?", (app_id,))


def exists(db: SqliteDatabase, company: str, role: str) -> bool:
    """Whether an application for this role at this company is recorded."""
    return db.execute_sql("SELECT 1 FROM applications WHERE company = ? AND role = ?",
                          (company, role)).fetchone() is not None


def awaiting_answer(db: SqliteDatabase, *, applied_before: datetime) -> list[Application]:
    """Applications still in "applied" status applied at or before ``applied_before``, oldest first."""
    rows = db.execute_sql(f"{_SELECT} WHERE status = ? AND applied_at <= ? ORDER BY applied_at",
                          (APPLIED, to_db(applied_before))).fetchall()
    return [Application(*r) for r in rows]


def count_awaiting_answer(db: SqliteDatabase) -> int:
    """How many applications are still in "applied" status."""
    return int(db.execute_sql("SELECT count(*) FROM applications WHERE status = ?", (APPLIED,)).fetchone()[0])


def count_applied_since(db: SqliteDatabase, since: datetime) -> int:
    """How many applications were sent at or after ``since``."""
    return int(db.execute_sql("SELECT count(*) FROM applications WHERE applied_at >= ?",
                              (to_db(since),)).fetchone()[0])
