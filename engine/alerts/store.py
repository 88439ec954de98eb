"""Alert lifecycle per (check, subject): open -> acknowledged | snoozed until T -> resolved.

A subject found again refreshes its alert; a subject no longer found resolves it. An expired
snooze turns the alert open again. Acknowledged alerts are never re-notified.

A snooze keeps when it was asked for (``snoozed_at``). When ``now`` is before that moment the
clock moved back, and the snooze is re-based to end its requested length after ``now``
(``rebased_snooze``): it can never outlast the clock going back by more than its own length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from peewee import SqliteDatabase

from engine.findings import Finding
from engine.timeutil import from_db, to_db


class AlertState(StrEnum):
    """Where an alert is in its lifecycle (``alerts.state``); the SQL of this module spells the same words."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # never re-notified; resolves when its subject is no longer found
    SNOOZED = "snoozed"  # open again by itself once snoozed_until has passed
    RESOLVED = "resolved"  # history: the subject was no longer found


_COLUMNS = ("id, check_name, subject, severity, title, detail, state, opened_at, last_seen_at,"
            " acknowledged_at, snoozed_until, resolved_at, first_notified_at, last_notified_at, notify_count,"
            " snoozed_at")


class AlertError(Exception):
    """An alert action that cannot be done (unknown id, already resolved)."""


@dataclass(frozen=True)
class Alert:
    id: int
    check_name: str
    subject: str
    severity: str
    title: str
    detail: str | None
    state: str
    opened_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    snoozed_until: datetime | None
    resolved_at: datetime | None
    first_notified_at: datetime | None
    last_notified_at: datetime | None
    notify_count: int
    snoozed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = to_db(value) if isinstance(value, datetime) else value
        out["check"] = self.check_name
        return out


def _row(row: tuple[Any, ...]) -> Alert:
    def ts(v: str | None) -> datetime | None:
        return from_db(v) if v else None

    return Alert(row[0], row[1], row[2], row[3], row[4], row[5], row[6], from_db(row[7]), from_db(row[8]),
                 ts(row[9]), ts(row[10]), ts(row[11]), ts(row[12]), ts(row[13]), row[14], ts(row[15]))


def rebased_snooze(snoozed_at: datetime | None, snoozed_until: datetime,
                   now: datetime) -> tuple[datetime | None, datetime]:
    """(snoozed_at, snoozed_until) as they should be at ``now``.

    Unchanged normally; when ``now`` is before ``snoozed_at`` the clock moved back, and the snooze
    restarts at ``now`` with its requested length (the real time already snoozed is unknown).
    """
    if snoozed_at is None or now >= snoozed_at:
        return snoozed_at, snoozed_until
    length = max(snoozed_until - snoozed_at, timedelta(0))
    return now, now + length


@dataclass(frozen=True)
class Reconciled:
    opened: list[int]
    resolved: list[Alert]  # as they were before resolving


def reconcile(db: SqliteDatabase, check_name: str, findings: list[Finding], now: datetime) -> Reconciled:
    """Open/refresh an alert per finding, wake expired snoozes, resolve subjects not found.

    Call inside the dispatcher's transaction.
    """
    live = {a.subject: a for a in list_alerts(db, check=check_name, live_only=True)}
    opened = []
    seen = set()
    for f in findings:
        if f.subject in seen:
            continue
        seen.add(f.subject)
        current = live.get(f.subject)
        if current is None:
            cursor = db.execute_sql(
                "INSERT INTO alerts (check_name, subject, severity, title, detail, state, opened_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
                (check_name, f.subject, f.severity, f.title, f.detail, to_db(now), to_db(now)),
            )
            opened.append(int(cursor.lastrowid))
            continue
        state = current.state
        snoozed_at, snoozed_until = current.snoozed_at, current.snoozed_until
        if state == AlertState.SNOOZED and snoozed_until is not None:
            snoozed_at, snoozed_until = rebased_snooze(snoozed_at, snoozed_until, now)
            if snoozed_until <= now:
                state, snoozed_at, snoozed_until = AlertState.OPEN, None, None
        db.execute_sql(
            "UPDATE alerts SET severity = ?, title = ?, detail = ?, last_seen_at = ?, state = ?, snoozed_until = ?,"
            " snoozed_at = ? WHERE id = ?",
            (f.severity, f.title, f.detail, to_db(now), state, to_db(snoozed_until) if snoozed_until else None,
             to_db(snoozed_at) if snoozed_at else None, current.id),
        )
    resolved = [a for subject, a in live.items() if subject not in seen]
    for alert in resolved:
        db.execute_sql("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?",
                       (to_db(now), alert.id))
    return Reconciled(opened=opened, resolved=resolved)


def notifiable(db: SqliteDatabase, check_name: str, now: datetime) -> list[Alert]:
    """Open, unacknowledged, unsnoozed (or snooze expired) alerts of a check."""
    rows = db.execute_sql(
        f"SELECT {_COLUMNS} FROM alerts WHERE check_name = ? AND"
        " (state = 'open' OR (state = 'snoozed' AND snoozed_until <= ?)) ORDER BY opened_at, id",
        (check_name, to_db(now)),
    ).fetchall()
    return [_row(r) for r in rows]


@dataclass(frozen=True)
class AlertCounts:
    """Live alerts by what they ask of you: needing attention (open, or a snooze that ended),
    acknowledged, and snoozed (until a time still ahead)."""

    attention: int = 0
    acknowledged: int = 0
    snoozed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"attention": self.attention, "acknowledged": self.acknowledged, "snoozed": self.snoozed}


def attention_counts(db: SqliteDatabase, now: datetime) -> AlertCounts:
    """How many live alerts need attention, are acknowledged, are snoozed at ``now``."""
    row = db.execute_sql(
        "SELECT coalesce(sum(state = 'open'"
        " OR (state = 'snoozed' AND (snoozed_until IS NULL OR snoozed_until <= ?))), 0),"
        " coalesce(sum(state = 'acknowledged'), 0),"
        " coalesce(sum(state = 'snoozed' AND snoozed_until > ?), 0) FROM alerts WHERE state != 'resolved'",
        (to_db(now), to_db(now))).fetchone()
    return AlertCounts(int(row[0]), int(row[1]), int(row[2]))


def _filter(check: str | None, state: str | None, live_only: bool) -> tuple[str, list[Any]]:
    where, args = [], []
    if check:
        where.append("check_name = ?")
        args.append(check)
    if state:
        where.append("state = ?")
        args.append(state)
    if live_only:
        where.append("state != 'resolved'")
    return (" WHERE " + " AND ".join(where)) if where else "", args


def list_alerts(db: SqliteDatabase, *, check: str | None = None, state: str | None = None,
                live_only: bool = False, limit: int = 500, offset: int = 0) -> list[Alert]:
    """Alerts, newest first, filtered by check and/or state (live = not resolved)."""
    where, args = _filter(check, state, live_only)
    sql = f"SELECT {_COLUMNS} FROM alerts{where} ORDER BY id DESC LIMIT ? OFFSET ?"
    return [_row(r) for r in db.execute_sql(sql, (*args, limit, offset)).fetchall()]


def count_alerts(db: SqliteDatabase, *, check: str | None = None, state: str | None = None,
                 live_only: bool = False) -> int:
    """How many alerts list_alerts would return without paging."""
    where, args = _filter(check, state, live_only)
    return int(db.execute_sql(f"SELECT count(*) FROM alerts{where}", args).fetchone()[0])


def get_alert(db: SqliteDatabase, alert_id: int) -> Alert:
    """One alert; AlertError when there is none with that id."""
    row = db.execute_sql(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        raise AlertError(f"no alert with id {alert_id}")
    return _row(row)


def acknowledge(db: SqliteDatabase, alert_id: int, now: datetime) -> Alert:
    """Acknowledge a live alert: it is not re-notified until it resolves."""
    with db.atomic("IMMEDIATE"):
        alert = get_alert(db, alert_id)
        if alert.state == AlertState.RESOLVED:
            raise AlertError(f"alert {alert_id} is already resolved")
        db.execute_sql("UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, snoozed_until = NULL,"
                       " snoozed_at = NULL WHERE id = ?", (to_db(now), alert_id))
        return get_alert(db, alert_id)


def snooze(db: SqliteDatabase, alert_id: int, until: datetime, now: datetime | None = None) -> Alert:
    """Snooze a live alert until ``until`` (asked at ``now``); it becomes notifiable again by itself after that.

    Without ``now`` the snooze cannot tell a clock set back (it then simply lasts until ``until``).
    """
    with db.atomic("IMMEDIATE"):
        alert = get_alert(db, alert_id)
        if alert.state == AlertState.RESOLVED:
            raise AlertError(f"alert {alert_id} is already resolved")
        db.execute_sql("UPDATE alerts SET state = 'snoozed', snoozed_until = ?, snoozed_at = ? WHERE id = ?",
                       (to_db(until), to_db(now) if now else None, alert_id))
        return get_alert(db, alert_id)


def mark_notified(db: SqliteDatabase, alert_ids: list[int], now: datetime) -> None:
    """Record that these alerts were part of a SENT notification."""
    for alert_id in alert_ids:
        db.execute_sql(
            "UPDATE alerts SET first_notified_at = COALESCE(first_notified_at, ?), last_notified_at = ?,"
            " notify_count = notify_count + 1 WHERE id = ?",
            (to_db(now), to_db(now), alert_id),
        )




def counts_by_state(db: SqliteDatabase) -> dict[AlertState, int]:
    """How many alerts are in each state as stored (every state listed, 0 when none)."""
    counts = dict.fromkeys(AlertState, 0)
    for state, n in db.execute_sql("SELECT state, count(*) FROM alerts GROUP BY state"):
        if state in counts:
            counts[AlertState(state)] = int(n)
    return counts
