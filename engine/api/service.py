"""What the local HTTP API does for the life data and the archive, as plain functions over the
database and the Engine (the monitoring operations are engine.actions).

Every function takes ``db`` (a migrated peewee SqliteDatabase) or ``engine`` (a started Engine)
plus plain values, returns plain data (dicts and lists, times as stored UTC strings) and raises:

- :class:`NotFound` (a LookupError) for a missing thing,
- :class:`Invalid` (a ValueError) for input that cannot be used,
- :class:`Conflict` for an action the current state does not allow.

The caller provides the thread's connection (``engine.store.db.connection``); the HTTP layer in
``http.py`` does that per request. Read-then-write paths use ``db.atomic("IMMEDIATE")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from peewee import SqliteDatabase

from engine.actions.errors import Conflict, Invalid, NotFound
from engine.life import applications, goals, work_sessions
from engine.life.errors import LifeError, LifeErrorKind
from engine.life.paging import Page

if TYPE_CHECKING:
    from engine.engine import Engine

Row = dict[str, Any]


# -- helpers ------------------------------------------------------------------------------------------


def _rows(db: SqliteDatabase, sql: str, params: Sequence[Any], cols: Sequence[str]) -> list[Row]:
    return [dict(zip(cols, r, strict=True)) for r in db.execute_sql(sql, params).fetchall()]


def _page(db: SqliteDatabase, cols: Sequence[str], source: str, where: list[str], params: list[Any],
          order: str, limit: int, offset: int, convert: Callable[[Row], Row] | None = None) -> Row:
    """One page of ``SELECT cols FROM source WHERE … ORDER BY order`` with the total count."""
    sql_where = (" WHERE " + " AND ".join(where)) if where else ""
    total = db.execute_sql(f"SELECT count(*) FROM {source}{sql_where}", params).fetchone()[0]
    items = _rows(db, f"SELECT {', '.join(cols)} FROM {source}{sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
                  [*params, limit, offset], [c.split(" AS ")[-1].split(".")[-1].strip('"') for c in cols])
    if convert is not None:
        items = [convert(i) for i in items]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


# -- the life data (applications, work sessions, goals): engine.life owns the tables --------------------

_LIFE_ERRORS: dict[LifeErrorKind, type[Exception]] = {
    LifeErrorKind.NOT_FOUND: NotFound, LifeErrorKind.INVALID: Invalid, LifeErrorKind.CONFLICT: Conflict}


@contextmanager
def _life() -> Iterator[None]:
    """engine.life's refusals as this boundary's NotFound / Invalid / Conflict (same message)."""
    try:
        yield
    except LifeError as exc:
        raise _LIFE_ERRORS[exc.kind](str(exc)) from exc


def _page_of(result: Page[Any]) -> Row:
    return {"items": [asdict(i) for i in result.items], "total": result.total, "limit": result.limit,
            "offset": result.offset}


# -- applications -------------------------------------------------------------------------------------


def get_application(db: SqliteDatabase, app_id: int) -> Row:
    with _life():
        return asdict(applications.get(db, app_id))


def create_application(db: SqliteDatabase, *, company: str, role: str, now: datetime, status: str = "applied",
                       applied_at: datetime | None = None, url: str | None = None,
                       notes: str | None = None) -> Row:
    """Record a job application (``applied_at`` defaults to now)."""
    with _life():
        return asdict(applications.create(db, company=company, role=role, now=now, status=status,
                                          applied_at=applied_at, url=url, notes=notes))


def list_applications(db: SqliteDatabase, *, status: str | None = None, company: str | None = None,
                      limit: int = 100, offset: int = 0) -> Row:
    """Applications, oldest application first."""
    return _page_of(applications.list_page(db, status=status, company=company, limit=limit, offset=offset))


def update_application(db: SqliteDatabase, app_id: int, changes: dict[str, Any], now: datetime) -> Row:
    """Change some fields of an application."""
    with _life():
        return asdict(applications.update(db, app_id, changes, now))


def delete_application(db: SqliteDatabase, app_id: int) -> Row:
    with _life():
        applications.delete(db, app_id)
    return {"id": app_id, "deleted": True}


# -- work sessions ------------------------------------------------------------------------------------


def get_work_session(db: SqliteDatabase, session_id: int) -> Row:
    with _life():
        return asdict(work_sessions.get(db, session_id))


def start_work_session(db: SqliteDatabase, *, name: str, now: datetime, cwd: str | None = None,
                       started_at: datetime | None = None) -> Row:
    """Start a manual work session (session_crash watches it from now on)."""
    with _life():
        return asdict(work_sessions.start(db, name=name, now=now, cwd=cwd, started_at=started_at))


def record_activity(db: SqliteDatabase, session_id: int, at: datetime) -> Row:
    """Note activity in an active session (never moves last activity backwards)."""
    with _life():
        return asdict(work_sessions.record_activity(db, session_id, at))


def end_work_session(db: SqliteDatabase, session_id: int, now: datetime, status: str = "ended") -> Row:
    """End an active session."""
    with _life():
        return asdict(work_sessions.end(db, session_id, now, status))


def list_work_sessions(db: SqliteDatabase, *, status: str | None = None, limit: int = 100,
                       offset: int = 0) -> Row:
    """Work sessions, latest activity first."""
    return _page_of(work_sessions.list_page(db, status=status, limit=limit, offset=offset))


# -- goals --------------------------------------------------------------------------------------------


def list_domains(db: SqliteDatabase) -> list[Row]:
    return [asdict(d) for d in goals.list_domains(db)]


def create_domain(db: SqliteDatabase, *, name: str, now: datetime, description: str | None = None) -> Row:
    with _life():
        return asdict(goals.create_domain(db, name=name, now=now, description=description))


def get_goal(db: SqliteDatabase, goal_id: int) -> Row:
    with _life():
        return asdict(goals.get(db, goal_id))


def goal_detail(db: SqliteDatabase, goal_id: int, progress: int = 20) -> Row:
    """A goal with its sub-goals, dependencies and recent progress updates."""
    with _life():
        found = goals.detail(db, goal_id, progress)
    return {**asdict(found.goal), "sub_goals": [asdict(s) for s in found.sub_goals],
            "depends_on": list(found.depends_on), "recent_progress": [asdict(p) for p in found.recent_progress]}


def list_goals(db: SqliteDatabase, *, domain_id: int | None = None, status: str | None = None,
               limit: int = 100, offset: int = 0) -> Row:
    return _page_of(goals.list_page(db, domain_id=domain_id, status=status, limit=limit, offset=offset))


def create_goal(db: SqliteDatabase, *, title: str, now: datetime, domain_id: int | None = None,
                status: str = "active", target_date: date | None = None) -> Row:
    with _life():
        return asdict(goals.create(db, title=title, now=now, domain_id=domain_id, status=status,
                                   target_date=target_date))


def update_goal(db: SqliteDatabase, goal_id: int, changes: dict[str, Any]) -> Row:
    with _life():
        return asdict(goals.update(db, goal_id, changes))


def add_sub_goal(db: SqliteDatabase, goal_id: int, *, title: str, now: datetime) -> Row:
    with _life():
        return asdict(goals.add_sub_goal(db, goal_id, title=title, now=now))


def update_sub_goal(db: SqliteDatabase, sub_id: int, changes: dict[str, Any], now: datetime) -> Row:
    """Rename a sub-goal or mark it done / open (done counts as progress on the goal)."""
    with _life():
        return asdict(goals.update_sub_goal(db, sub_id, changes, now))


def add_dependency(db: SqliteDatabase, goal_id: int, depends_on: int) -> Row:
    """Goal ``goal_id`` depends on ``depends_on``; cycles are refused."""
    with _life():
        return asdict(goals.add_dependency(db, goal_id, depends_on))


def remove_dependency(db: SqliteDatabase, goal_id: int, depends_on: int) -> Row:
    with _life():
        return asdict(goals.remove_dependency(db, goal_id, depends_on))


def add_progress(db: SqliteDatabase, goal_id: int, *, now: datetime, value: float | None = None,
                 note: str | None = None, ts: datetime | None = None) -> Row:
    """A progress update (a life_goal_metrics row); resets goal_staleness for the goal."""
    with _life():
        return asdict(goals.add_progress(db, goal_id, now=now, value=value, note=note, ts=ts))


def list_progress(db: SqliteDatabase, goal_id: int, *, limit: int = 100, offset: int = 0) -> Row:
    with _life():
        return _page_of(goals.list_progress(db, goal_id, limit=limit, offset=offset))


# -- archive ------------------------------------------------------------------------------------------

_RUN_COLS = ("id", "started_at", "finished_at", "status", "trigger", "files_seen", "files_parsed",
             "files_skipped", "bytes_read", "sessions_new", "sessions_updated", "bad_lines", "duration_s", "error")


def archive_runs(db: SqliteDatabase, *, limit: int = 50, offset: int = 0) -> Row:
    return _page(db, _RUN_COLS, "conversation_archive_runs", [], [], "id DESC", limit, offset)


def run_archive_now(engine: Engine) -> Row:
    """Hand an archive run to the scheduler (serialised with the nightly run); see archive_runs."""
    if not engine.config.archive.enabled or not engine.run_now("archive"):
        raise Conflict("the archive is disabled in config ([archive] enabled = false)")
    return {"job": "archive", "scheduled": True}


def archive_sessions(db: SqliteDatabase, *, limit: int = 50) -> list[Row]:
    from engine.archive.service import list_sessions

    return list_sessions(db, limit)


def archive_session(db: SqliteDatabase, session_id: str) -> Row:
    from engine.archive.service import show_session

    view = show_session(db, session_id)
    if view is None:
        raise NotFound(f"no unique archived session matches {session_id!r}")
    session = dict(view.session)
    text = session.pop("summary", None)
    return {"session": session, "summary_text": text, "summary": view.summary,
            "turns": [asdict(t) for t in view.turns], "tool_calls": [asdict(t) for t in view.tool_calls],
            "subagents": view.subagents}


def archive_search(db: SqliteDatabase, query: str, *, limit: int = 20) -> list[Row]:
    from peewee import OperationalError

    from engine.archive.service import search

    try:
        return search(db, query, limit)
    except OperationalError as exc:
        raise Invalid(f"cannot search for {query!r}: {exc}") from exc
