"""What the local HTTP API does, as plain functions over the database and the Engine.

Every function takes ``db`` (a migrated peewee SqliteDatabase) or ``engine`` (a started Engine)
plus plain values, returns plain data (dicts and lists, times as stored UTC strings) and raises:

- :class:`NotFound` (a LookupError) for a missing thing,
- :class:`Invalid` (a ValueError) for input that cannot be used,
- :class:`Conflict` for an action the current state does not allow,
- :class:`ChannelFailed` when a test message could not be delivered.

The caller provides the thread's connection (``engine.store.db.connection``); the HTTP layer in
``http.py`` does that per request. Read-then-write paths use ``db.atomic("IMMEDIATE")``.
The actions on the running instance (check run, acknowledge, snooze, pause) go through the same
Engine methods the control channel, the tray and Telegram use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from peewee import SqliteDatabase

from engine.actions.errors import ChannelFailed, Conflict, Invalid, NotFound
from engine.alerts import store as alert_store
from engine.life import applications, goals, work_sessions
from engine.life.errors import LifeError, LifeErrorKind
from engine.life.paging import Page
from engine.timeutil import to_db

if TYPE_CHECKING:
    from engine.checks.service import CheckService
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


def _checks(engine: Engine) -> CheckService:
    if engine.checks is None:
        raise Conflict("the instance is not running")
    return engine.checks


def _db(engine: Engine) -> SqliteDatabase:
    if engine.db is None:
        raise Conflict("the instance is not running")
    return engine.db


# -- health and status --------------------------------------------------------------------------------


def health(engine: Engine) -> Row:
    """Public liveness: up, and the health state word. Nothing secret, nothing identifying."""
    return {"status": "up", "state": engine.snapshot().state.value}


def status(engine: Engine) -> Row:
    """The instance's snapshot (what `watchkeeper status --json` shows)."""
    from engine.snapshot import snapshot_to_dict

    return snapshot_to_dict(engine.snapshot())


# -- checks -------------------------------------------------------------------------------------------


def _check_row(engine: Engine, name: str, runs: dict[str, Row], open_counts: dict[str, int]) -> Row:
    d = _checks(engine).get(name)
    last = runs.get(name, {})
    scheduler = engine.scheduler
    next_run = scheduler.next_run(name) if scheduler is not None and name in scheduler.specs else None
    return {"name": d.name, "kind": d.kind.kind, "description": d.kind.description, "enabled": d.enabled,
            "schedule": d.schedule, "cooldown": d.cooldown, "severity": d.severity,
            "next_run": to_db(next_run) if next_run else None, "last_run": last.get("finished_at"),
            "last_outcome": last.get("outcome"), "last_findings": last.get("findings"),
            "last_error": last.get("error"), "open_alerts": open_counts.get(name, 0)}


def _open_counts(db: SqliteDatabase) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in db.execute_sql(
        "SELECT check_name, count(*) FROM alerts WHERE state != 'resolved' GROUP BY check_name").fetchall()}


def list_checks(engine: Engine) -> list[Row]:
    """Every configured check with schedule, cooldown, next and last run, open alerts."""
    checks = _checks(engine)
    runs, counts = checks.last_runs(), _open_counts(_db(engine))
    return [_check_row(engine, name, runs, counts) for name in checks.definitions]


def _known_check(engine: Engine, name: str) -> None:
    from engine.checks.service import UnknownCheck

    try:
        _checks(engine).get(name)
    except UnknownCheck as exc:
        raise NotFound(str(exc)) from exc


def check_detail(engine: Engine, name: str, runs: int = 10) -> Row:
    """One check: its row, parameters and recent runs."""
    _known_check(engine, name)
    checks = _checks(engine)
    db = _db(engine)
    row = _check_row(engine, name, checks.last_runs(), _open_counts(db))
    row["params"] = json.loads(json.dumps(checks.get(name).params, default=str))
    row["recent_runs"] = _rows(
        db, "SELECT id, started_at, finished_at, outcome, findings, error, trigger FROM check_runs"
        " WHERE check_name = ? ORDER BY id DESC LIMIT ?", (name, runs),
        ("id", "started_at", "finished_at", "outcome", "findings", "error", "trigger"))
    return row


def run_checks(engine: Engine, names: list[str] | None = None, trigger: str = "api") -> list[Row]:
    """Evaluate the checks now (all enabled ones when ``names`` is None) and dispatch under the
    rate limits; blocks until they ran and returns each run (as the control channel does)."""
    checks = _checks(engine)
    names = [d.name for d in checks.enabled] if names is None else names
    for name in names:
        _known_check(engine, name)  # nothing runs when one name is unknown
    results = [checks.run(name, trigger).to_dict() for name in names]
    engine.publish()
    return results


def why(engine: Engine, name: str) -> Row:
    """The cooldown decision for a check now, as data and in the words of `check why`."""
    _known_check(engine, name)
    explanation = _checks(engine).explain(name)
    return {**explanation.to_dict(), "text": explanation.text()}


# -- alerts, pause ------------------------------------------------------------------------------------


def list_alerts(db: SqliteDatabase, *, check: str | None = None, state: str | None = None,
                live_only: bool = False, limit: int = 100, offset: int = 0) -> Row:
    """Alerts newest first, filtered by check, state and liveness (not resolved)."""
    items = alert_store.list_alerts(db, check=check, state=state, live_only=live_only, limit=limit, offset=offset)
    total = alert_store.count_alerts(db, check=check, state=state, live_only=live_only)
    return {"items": [a.to_dict() for a in items], "total": total, "limit": limit, "offset": offset}


def get_alert(db: SqliteDatabase, alert_id: int) -> Row:
    try:
        return alert_store.get_alert(db, alert_id).to_dict()
    except alert_store.AlertError as exc:
        raise NotFound(str(exc)) from exc


def _alert_action(engine: Engine, alert_id: int, action: Callable[[], None]) -> Row:
    db = _db(engine)
    get_alert(db, alert_id)
    try:
        action()
    except alert_store.AlertError as exc:
        raise Conflict(str(exc)) from exc
    return get_alert(db, alert_id)


def acknowledge(engine: Engine, alert_id: int) -> Row:
    """Acknowledge a live alert (not re-notified until it resolves)."""
    return _alert_action(engine, alert_id, lambda: engine.acknowledge(alert_id))


def snooze(engine: Engine, alert_id: int, duration: timedelta) -> Row:
    """Snooze a live alert for ``duration``."""
    return _alert_action(engine, alert_id, lambda: engine.snooze(alert_id, duration))


def pause(engine: Engine, duration: timedelta | None) -> Row:
    """Pause alerts for ``duration``; None resumes."""
    until = engine.now() + duration if duration is not None else None
    engine.pause(until)
    return {"paused_until": to_db(until) if until else None}


# -- heartbeat log, channels, outbox, events ---------------------------------------------------------


def _since_until(column: str, since: datetime | None, until: datetime | None,
                 where: list[str], params: list[Any]) -> None:
    if since is not None:
        where.append(f"{column} >= ?")
        params.append(to_db(since))
    if until is not None:
        where.append(f"{column} < ?")
        params.append(to_db(until))


def heartbeat_log(db: SqliteDatabase, *, check: str | None = None, decision: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: int = 100, offset: int = 0) -> Row:
    """Notification decisions (SENT / SUPPRESSED / DEFERRED …) with their reasons, newest first."""
    where: list[str] = []
    params: list[Any] = []
    if check:
        where.append("check_name = ?")
        params.append(check)
    if decision:
        where.append("decision = ?")
        params.append(decision)
    _since_until("ts", since, until, where, params)
    return _page(db, ("id", 'check_name AS "check"', "ts", "decision", "reason", "subjects", "notification_id"),
                 "heartbeat_log", where, params, "id DESC", limit, offset)


def channels(engine: Engine) -> list[Row]:
    """Per enabled channel: state, pending and failed counts, last error."""
    return engine.delivery.status() if engine.delivery is not None else []


def send_test_message(engine: Engine, channel: str) -> Row:
    """Send the test message through one channel now (not through the outbox)."""
    from engine.alerts.templates import render
    from engine.channels.base import ChannelError, OutgoingMessage

    delivery = engine.delivery
    target = delivery.channels.get(channel) if delivery is not None else None
    if delivery is None or target is None:
        known = ", ".join(delivery.channels) if delivery is not None and delivery.channels else "none"
        raise NotFound(f"no enabled channel named {channel!r}; enabled: {known}")
    db = _db(engine)
    message = OutgoingMessage(render(db, "test.title"), render(db, "test.body"), "info")
    try:
        sent = target.notify(message)
    except ChannelError as exc:
        text = str(exc)
        for secret in delivery.secrets:
            text = text.replace(secret, "<redacted>")
        raise ChannelFailed(f"{channel}: {text}") from exc
    return {"channel": channel, "sent": True, "message_id": sent.channel_message_id}


def outbox(db: SqliteDatabase, *, channel: str | None = None, state: str | None = None,
           limit: int = 100, offset: int = 0) -> Row:
    """Outbox rows (one per notification and channel), newest first."""
    where: list[str] = []
    params: list[Any] = []
    if channel:
        where.append("o.channel = ?")
        params.append(channel)
    if state:
        where.append("o.state = ?")
        params.append(state)
    cols = ("o.id", "o.notification_id", "o.channel", "o.state", "o.attempts", "o.created_at", "o.next_attempt_at",
            "o.sent_at", "o.last_error", "n.kind", "n.severity", "n.title")
    return _page(db, cols, "outbox o LEFT JOIN notifications n ON n.id = o.notification_id", where, params,
                 "o.id DESC", limit, offset)


def _event(row: Row) -> Row:
    if row["detail"]:
        try:
            row["detail"] = json.loads(row["detail"])
        except ValueError:
            pass
    return row


def events(db: SqliteDatabase, *, source: str | None = None, kind: str | None = None,
           severity: str | None = None, since: datetime | None = None, until: datetime | None = None,
           limit: int = 100, offset: int = 0) -> Row:
    """discovered_events, newest first."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("source", source), ("kind", kind), ("severity", severity)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    _since_until("ts", since, until, where, params)
    return _page(db, ("id", "ts", "source", "kind", "subject", "severity", "detail"), "discovered_events",
                 where, params, "id DESC", limit, offset, _event)


def config(engine: Engine) -> Row:
    """The effective configuration with secrets replaced."""
    from engine.config import redacted

    return json.loads(json.dumps(redacted(engine.config), default=str))


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
