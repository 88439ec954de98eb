"""Work sessions (the ``work_sessions`` table): started by hand or through the API, or kept in step
with agent transcripts by session_watch; session_crash reads the active ones.

A session is ``active`` until it ends: ``ended`` / ``abandoned`` by hand, ``ended`` or ``stalled``
(with ``interrupted_reason``) when session_watch sees its transcript go quiet. Only an active session
takes activity or can be ended; activity never moves backwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from peewee import SqliteDatabase

from engine.life.errors import conflict, not_found
from engine.life.paging import Filter, Page, Record, page
from engine.timeutil import to_db

ACTIVE = "active"
ENDED = "ended"
API_SOURCE = "api"


@dataclass(frozen=True)
class WorkSession(Record):
    """One work session as stored (times are UTC text)."""

    id: int
    name: str
    source: str
    external_id: str | None
    cwd: str | None
    started_at: str
    last_activity_at: str
    ended_at: str | None
    status: str
    interrupted_reason: str | None


_COLS = tuple(f.name for f in fields(WorkSession))
_SELECT = f"SELECT {', '.join(_COLS)} FROM work_sessions"


def get(db: SqliteDatabase, session_id: int) -> WorkSession:
    """The session with this id (LifeError not-found else)."""
    row = db.execute_sql(f"{_SELECT} WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise not_found(f"no work session with id {session_id}")
    return WorkSession(*row)


def start(db: SqliteDatabase, *, name: str, now: datetime, cwd: str | None = None,
          started_at: datetime | None = None, source: str = API_SOURCE, last_activity_at: datetime | None = None,
          interrupted_reason: str | None = None) -> WorkSession:
    """Start an active session (session_crash watches it from now on); the last activity defaults
    to its start, which defaults to ``now``."""
    start_at = to_db(started_at or now)
    cursor = db.execute_sql(
        "INSERT INTO work_sessions (name, source, cwd, started_at, last_activity_at, status, interrupted_reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, source, cwd, start_at, to_db(last_activity_at) if last_activity_at else start_at, ACTIVE,
         interrupted_reason))
    return get(db, int(cursor.lastrowid))


def record_activity(db: SqliteDatabase, session_id: int, at: datetime) -> WorkSession:
    """Note activity in an active session (never moves last activity backwards)."""
    with db.atomic("IMMEDIATE"):
        session = get(db, session_id)
        if session.status != ACTIVE:
            raise conflict(f"work session {session_id} is {session.status}")
        db.execute_sql("UPDATE work_sessions SET last_activity_at = max(last_activity_at, ?) WHERE id = ?",
                       (to_db(at), session_id))
        return get(db, session_id)


def end(db: SqliteDatabase, session_id: int, now: datetime, status: str = ENDED) -> WorkSession:
    """End an active session with ``status`` (ended / abandoned)."""
    with db.atomic("IMMEDIATE"):
        session = get(db, session_id)
        if session.status != ACTIVE:
            raise conflict(f"work session {session_id} is already {session.status}")
        db.execute_sql("UPDATE work_sessions SET status = ?, ended_at = ? WHERE id = ?",
                       (status, to_db(now), session_id))
        return get(db, session_id)


def list_page(db: SqliteDatabase, *, status: str | None = None, limit: int = 100,
              offset: int = 0) -> Page[WorkSession]:
    """Work sessions, latest activity first."""
    where = Filter().where("status = ?", status) if status else Filter()
    return page(db, _COLS, "work_sessions", where, "last_activity_at DESC, id DESC", limit, offset, WorkSession)


def exists_named(db: SqliteDatabase, name: str) -> bool:
    """Whether a session with this name is recorded."""
    return db.execute_sql("SELECT 1 FROM work_sessions WHERE name = ?", (name,)).fetchone() is not None


def delete(db: SqliteDatabase, session_id: int) -> None:
    """Delete a work session (LifeError not-found when there is none)."""
    with db.atomic("IMMEDIATE"):
        get(db, session_id)
        db.execute_sql("DELETE FROM work_sessions WHERE id = ?", (session_id,))


def open_sessions(db: SqliteDatabase) -> list[WorkSession]:
    """Active sessions that have not ended (what session_crash watches)."""
    rows = db.execute_sql(f"{_SELECT} WHERE status = ? AND ended_at IS NULL", (ACTIVE,)).fetchall()
    return [WorkSession(*r) for r in rows]


# -- transcript-backed sessions (session_watch) --------------------------------------------------------


def upsert_watched(db: SqliteDatabase, *, external_id: str, name: str, source: str, cwd: str | None,
                   started_at: str, last_activity_at: str, interrupted_reason: str | None) -> None:
    """Make the session of transcript ``external_id`` active with this last activity (created on
    first sight; a known one is reopened, keeping its cwd when none is given)."""
    db.execute_sql(
        "INSERT INTO work_sessions (name, source, external_id, cwd, started_at,"
        " last_activity_at, status, interrupted_reason) VALUES (?,?,?,?,?,?,?,?)"
        " ON CONFLICT(external_id) DO UPDATE SET name = excluded.name,"
        " cwd = coalesce(excluded.cwd, cwd),"
        " last_activity_at = excluded.last_activity_at, status = excluded.status,"
        " ended_at = NULL, interrupted_reason = excluded.interrupted_reason",
        (name, source, external_id, cwd, started_at, last_activity_at, ACTIVE, interrupted_reason))


def active_external_ids(db: SqliteDatabase, sources: Iterable[str]) -> list[str]:
    """The transcript ids of active sessions from these sources."""
    wanted = list(sources)
    rows = db.execute_sql(
        f"SELECT external_id FROM work_sessions WHERE status = ? AND source IN ({','.join('?' * len(wanted))})"
        " ORDER BY id",
        (ACTIVE, *wanted)).fetchall()
    return [r[0] for r in rows]


def close_watched(db: SqliteDatabase, external_id: str, status: str, interrupted_reason: str | None) -> None:
    """Close the session of transcript ``external_id``: ``status`` (ended / stalled) as of its last activity."""
    db.execute_sql("UPDATE work_sessions SET status = ?, ended_at = last_activity_at, interrupted_reason = ?"
                   " WHERE external_id = ?", (status, interrupted_reason, external_id))
