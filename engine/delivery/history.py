"""Delivery over time, read-only: the outbox counted per channel and state, the newest failed
rows, the delivery attempts after a cursor (the activity feed), and where the notifications about
given alerts went, per channel."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from engine.timeutil import to_db

DIGEST_CHECK = "digest"  # the check_name of a digest notification (it carries alerts of several checks)


def outbox_counts(db: SqliteDatabase) -> dict[str, dict[str, int]]:
    """Outbox rows per channel and state: {channel: {state: rows}}."""
    out: dict[str, dict[str, int]] = {}
    for channel, state, n in db.execute_sql("SELECT channel, state, count(*) FROM outbox GROUP BY channel, state"):
        out.setdefault(str(channel), {})[str(state)] = int(n)
    return out


@dataclass(frozen=True)
class FailedRow:
    """An outbox row that failed for good (dead-lettered), with what it was about."""

    id: int
    notification_id: int
    channel: str
    attempts: int
    created_at: str
    last_error: str | None
    check: str | None
    title: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def recent_failed(db: SqliteDatabase, limit: int) -> list[FailedRow]:
    """The newest ``limit`` failed outbox rows, newest first."""
    rows = db.execute_sql(
        "SELECT o.id, o.notification_id, o.channel, o.attempts, o.created_at, o.last_error, n.check_name, n.title"
        " FROM outbox o LEFT JOIN notifications n ON n.id = o.notification_id WHERE o.state = 'failed'"
        " ORDER BY o.id DESC LIMIT ?", (limit,)).fetchall()
    return [FailedRow(*r) for r in rows]


@dataclass(frozen=True)
class AttemptRow:
    """One delivery attempt (``ok``: it arrived) of a notification through a channel."""

    id: int
    ts: str
    ok: bool
    error: str | None
    channel: str
    notification_id: int
    check: str | None
    kind: str | None
    title: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def attempts_after(db: SqliteDatabase, after_id: int, limit: int) -> list[AttemptRow]:
    """The newest ``limit`` delivery attempts with an id above ``after_id``, newest first."""
    rows = db.execute_sql(
        "SELECT a.id, a.ts, a.ok, a.error, o.channel, o.notification_id, n.check_name, n.kind, n.title"
        " FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id"
        " LEFT JOIN notifications n ON n.id = o.notification_id WHERE a.id > ? ORDER BY a.id DESC LIMIT ?",
        (after_id, limit)).fetchall()
    return [AttemptRow(r[0], r[1], bool(r[2]), *r[3:]) for r in rows]


def latest_attempt_id(db: SqliteDatabase) -> int:
    """The highest delivery attempt id recorded (0 when none)."""
    return int(db.execute_sql("SELECT coalesce(max(id), 0) FROM delivery_attempts").fetchone()[0])


@dataclass(frozen=True)
class ChannelDelivery:
    """What became of the notifications about one alert in one channel: how many went there, and
    the latest one's state, attempts, last error and when it was sent."""

    channel: str
    notifications: int
    state: str
    attempts: int
    last_error: str | None
    sent_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AlertSpan:
    """An alert as far as finding its notifications goes: its check, when it opened, and the last
    moment a notification can name it (its resolution, which may send a recovery; else its last
    notification; None when it was never notified)."""

    id: int
    check: str
    opened_at: datetime
    last_named_at: datetime | None


def alert_deliveries(db: SqliteDatabase, alerts: Sequence[AlertSpan]) -> dict[int, tuple[ChannelDelivery, ...]]:
    """Per alert id: the channels its notifications (alerts, recoveries, digests) were queued for.

    Only notifications of the alert's check (or digests) made between its opening and the last
    moment one can name it are looked at (indexed by check and time), and of those the ones whose
    alert ids name it."""
    out: dict[int, tuple[ChannelDelivery, ...]] = {}
    for alert in alerts:
        if alert.last_named_at is None:
            out[alert.id] = ()
            continue
        rows = db.execute_sql(
            "SELECT o.channel, o.state, o.attempts, o.last_error, o.sent_at, n.alert_ids FROM notifications n"
            " JOIN outbox o ON o.notification_id = n.id"
            " WHERE n.check_name IN (?, ?) AND n.created_at >= ? AND n.created_at <= ? ORDER BY n.id, o.id",
            (alert.check, DIGEST_CHECK, to_db(alert.opened_at), to_db(alert.last_named_at))).fetchall()
        per_channel: dict[str, ChannelDelivery] = {}
        for channel, state, attempts, error, sent_at, alert_ids in rows:
            if not _names(alert_ids, alert.id):
                continue
            seen = per_channel.get(channel)
            per_channel[channel] = ChannelDelivery(channel, (seen.notifications if seen else 0) + 1, state,
                                                   int(attempts), error, sent_at)
        out[alert.id] = tuple(per_channel.values())
    return out


def _names(alert_ids: str | None, alert_id: int) -> bool:
    try:
        ids = json.loads(alert_ids or "[]")
    except ValueError:
        return False
    return isinstance(ids, list) and alert_id in ids
