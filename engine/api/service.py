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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from peewee import SqliteDatabase

from engine.actions.errors import ChannelFailed, Conflict, NotFound
from engine.alerts import store as alert_store
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
