"""The durable outbox: one row per (notification, channel), written in the same transaction as
the SEND decision, delivered at least once by the channel workers.

Row states: pending -> sending -> sent | failed (permanent error) | collapsed (folded into one
"while you were offline" message). With presence-aware routing (engine/delivery/routing.py) a row
may start ``held`` (``hold``: 'return', until the person is back at this machine; 'escalate', until
escalate_after passed while they are away) and later become pending or ``skipped`` (never sent
here; ``route`` says why). Held rows are not pending: they are counted apart. ``route`` records the
routing decision of every row. A row found in ``sending`` at startup was interrupted by a
crash and goes back to pending: at-least-once, never lost. A row marked sent is never sent again.
A long message goes out in parts: ``parts_sent`` records how many arrived, so a retry sends only
the rest. Waits are bounded by :func:`max_wait` (one hour, or the backoff cap if longer): neither a
server's huge ``retry_after`` nor a clock set back can park a row for longer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from peewee import SqliteDatabase

from engine.channels.base import MAX_RETRY_AFTER_SECONDS, clamp_wait
from engine.store.migrations import Migration
from engine.timeutil import from_db, human_time, to_db, utcnow

MIGRATIONS: list[Migration] = [
    Migration(
        "delivery_0001_outbox",
        sql=(
            """CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
                channel TEXT NOT NULL,
                idempotency_key TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                next_attempt_at TEXT NOT NULL,
                sent_at TEXT,
                last_error TEXT,
                channel_message_id TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_outbox_channel_state_next ON outbox (channel, state, next_attempt_at)",
            """CREATE TABLE IF NOT EXISTS channel_state (
                channel TEXT PRIMARY KEY,
                state TEXT NOT NULL DEFAULT 'ok',
                last_error TEXT,
                last_error_at TEXT,
                last_ok_at TEXT
            )""",
            """CREATE TABLE IF NOT EXISTS delivery_attempts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
                ts TEXT NOT NULL,
                ok INTEGER NOT NULL,
                error TEXT,
                permanent INTEGER NOT NULL DEFAULT 0
            )""",
        ),
    ),
    Migration(
        "delivery_0002_outbox_parts_sent",
        sql=(
            "ALTER TABLE outbox ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE outbox ADD COLUMN first_message_id TEXT",
        ),
    ),
    Migration(
        "delivery_0003_channel_rate_limited_until",
        sql=("ALTER TABLE channel_state ADD COLUMN rate_limited_until TEXT",),
    ),
    # A notification's rows (its routes, the dashboard's deliveries per alert) without a scan.
    Migration(
        "delivery_0004_outbox_notification_index",
        sql=("CREATE INDEX IF NOT EXISTS ix_outbox_notification ON outbox (notification_id)",),
    ),
    # Presence-aware routing: the decision recorded with each row, and why a held row waits.
    Migration(
        "delivery_0005_outbox_routing",
        sql=(
            "ALTER TABLE outbox ADD COLUMN route TEXT",
            "ALTER TABLE outbox ADD COLUMN hold TEXT",
            "CREATE INDEX IF NOT EXISTS ix_outbox_held ON outbox (state) WHERE state = 'held'",
        ),
    ),
]


_MAX_HORIZON_SECONDS = 10 * 365 * 86400.0


class OutboxState(StrEnum):
    """Where an outbox row is (``outbox.state``); the SQL of this module spells the same words."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker (found at startup: a crash interrupted it, back to pending)
    SENT = "sent"  # delivered, never sent again
    FAILED = "failed"  # a permanent error: dead-lettered
    COLLAPSED = "collapsed"  # folded into one "while you were offline" message
    HELD = "held"  # routing keeps it for the person's return or for escalation (``hold`` says which)
    SKIPPED = "skipped"  # routing decided it is not sent here (``route`` says why)


class ChannelHealth(StrEnum):
    """A channel's state in the status (``channel_state.state``, plus the states derived when shown)."""

    OK = "ok"
    BROKEN = "broken"  # a permanent failure; a later success (or a successful test) makes it ok again
    RATE_LIMITED = "rate-limited"  # shown only, never stored: derived from rate_limited_until
    UNAVAILABLE = "unavailable"  # shown only: enabled, but cannot deliver here (e.g. no notification service)
    DISABLED = "disabled"  # shown only: the configuration does not deliver to it
    STANDBY = "standby"  # shown only: delivers, but another program answers the channel's commands


DELIVERING = (ChannelHealth.OK, ChannelHealth.RATE_LIMITED, ChannelHealth.STANDBY)
"""The states in which a channel delivers (a rate-limited one after its wait)."""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    notification_id: int
    channel: str
    idempotency_key: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    kind: str
    severity: str
    title: str
    body: str
    alert_ids: list[int]
    parts_sent: int = 0  # parts of a multi-part message already delivered


@dataclass(frozen=True)
class Placement:
    """How a new row starts: its state (pending, held or skipped), why it is held, the route text."""

    state: str = OutboxState.PENDING
    hold: str | None = None
    route: str | None = None


def enqueue(db: SqliteDatabase, notification_id: int, channels: list[str], now: datetime,
            placements: Mapping[str, Placement] | None = None) -> list[int]:
    """One row per channel for a notification (inside the caller's transaction): pending unless
    ``placements`` says otherwise for that channel."""
    ids = []
    for channel in channels:
        place = (placements or {}).get(channel, Placement())
        cursor = db.execute_sql(
            "INSERT OR IGNORE INTO outbox (notification_id, channel, idempotency_key, created_at, next_attempt_at,"
            " state, hold, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (notification_id, channel, f"wk-{notification_id}-{channel}", to_db(now), to_db(now),
             str(place.state), place.hold, place.route),
        )
        ids.append(int(cursor.lastrowid))
    return ids


def channels_notified(db: SqliteDatabase, alert_ids: Sequence[int]) -> set[str]:
    """The channels that delivered (or are about to deliver) an alert or digest naming one of ``alert_ids``."""
    if not alert_ids:
        return set()
    marks = ",".join("?" * len(alert_ids))
    rows = db.execute_sql(
        "SELECT DISTINCT o.channel FROM notifications n JOIN outbox o ON o.notification_id = n.id,"
        f" json_each(n.alert_ids) j WHERE n.kind IN ('alert', 'digest') AND j.value IN ({marks})"
        " AND o.state IN ('pending', 'sending', 'sent')", tuple(alert_ids)).fetchall()
    return {str(r[0]) for r in rows}


@dataclass(frozen=True)
class HeldRow:
    """A held outbox row: why it waits, since when, and whether one of its alerts is still open and
    unacknowledged."""

    id: int
    channel: str
    hold: str
    created_at: datetime
    still_open: bool


def has_held(db: SqliteDatabase) -> bool:
    """Whether any row is held (indexed: cheap)."""
    return db.execute_sql("SELECT 1 FROM outbox WHERE state = 'held' LIMIT 1").fetchone() is not None


def held_rows(db: SqliteDatabase) -> list[HeldRow]:
    """Every held row, oldest first, with whether its notification still names an open alert."""
    rows = db.execute_sql(
        "SELECT o.id, o.channel, o.hold, o.created_at, EXISTS (SELECT 1 FROM json_each(n.alert_ids) j"
        " JOIN alerts a ON a.id = j.value WHERE a.state = 'open') FROM outbox o"
        " JOIN notifications n ON n.id = o.notification_id WHERE o.state = 'held' ORDER BY o.id").fetchall()
    return [HeldRow(int(r[0]), str(r[1]), str(r[2] or ""), from_db(r[3]), bool(r[4])) for r in rows]


def release_held(db: SqliteDatabase, row_id: int, now: datetime, route: str) -> bool:
    """A held row becomes pending, due now, with the new route text; False when it was not held."""
    cursor = db.execute_sql("UPDATE outbox SET state = 'pending', hold = NULL, next_attempt_at = ?, route = ?"
                            " WHERE id = ? AND state = 'held'", (to_db(now), route, row_id))
    return cursor.rowcount == 1


def skip_held(db: SqliteDatabase, row_id: int, route: str) -> bool:
    """A held row is never sent (``route`` says why); False when it was not held."""
    cursor = db.execute_sql("UPDATE outbox SET state = 'skipped', hold = NULL, route = ?"
                            " WHERE id = ? AND state = 'held'", (route, row_id))
    return cursor.rowcount == 1


_SELECT = (
    "SELECT o.id, o.notification_id, o.channel, o.idempotency_key, o.state, o.attempts, o.created_at,"
    " o.next_attempt_at, n.kind, n.severity, n.title, n.body, n.alert_ids, o.parts_sent"
    " FROM outbox o JOIN notifications n ON n.id = o.notification_id"
)


def _row(r: tuple[Any, ...]) -> OutboxRow:
    return OutboxRow(r[0], r[1], r[2], r[3], r[4], r[5], from_db(r[6]), from_db(r[7]), r[8], r[9], r[10], r[11],
                     [int(x) for x in json.loads(r[12] or "[]")], int(r[13] or 0))


def due(db: SqliteDatabase, channel: str, now: datetime, limit: int = 20,
        max_wait: float | None = None) -> list[OutboxRow]:
    """Pending rows of a channel whose next attempt is due, oldest first.

    With ``max_wait`` (the backoff cap), a next attempt more than that far ahead is due too:
    no wait we compute is that long, so it was computed before the clock was set back.
    """
    horizon = "9999"  # sorts after every stored timestamp
    if max_wait is not None and max_wait < _MAX_HORIZON_SECONDS:
        horizon = to_db(now + timedelta(seconds=max_wait))
    rows = db.execute_sql(
        _SELECT + " WHERE o.channel = ? AND o.state = 'pending' AND (o.next_attempt_at <= ? OR o.next_attempt_at > ?)"
        " ORDER BY o.id LIMIT ?", (channel, to_db(now), horizon, limit)).fetchall()
    return [_row(r) for r in rows]


def next_due_at(db: SqliteDatabase, channel: str) -> datetime | None:
    """When the next pending row of a channel is due (None: nothing pending)."""
    row = db.execute_sql("SELECT min(next_attempt_at) FROM outbox WHERE channel = ? AND state = 'pending'",
                         (channel,)).fetchone()
    return from_db(row[0]) if row and row[0] else None


def stale_pending(db: SqliteDatabase, channel: str, older_than: datetime) -> list[OutboxRow]:
    """Pending rows created before ``older_than`` (candidates for collapsing); a row already partly
    delivered is not one (it finishes instead). A row created after ``older_than`` (even one "in the
    future", from before the clock was set back) is never stale."""
    rows = db.execute_sql(_SELECT + " WHERE o.channel = ? AND o.state = 'pending' AND o.created_at < ?"
                          " AND o.parts_sent = 0"
                          " ORDER BY o.id", (channel, to_db(older_than))).fetchall()
    return [_row(r) for r in rows]


def claim(db: SqliteDatabase, row_id: int) -> bool:
    """Move a pending row to sending; False when someone else took it or it is no longer pending."""
    cursor = db.execute_sql("UPDATE outbox SET state = 'sending' WHERE id = ? AND state = 'pending'", (row_id,))
    return cursor.rowcount == 1


def mark_sent(db: SqliteDatabase, row_id: int, now: datetime, channel_message_id: str | None,
              parts_sent: int | None = None, first_message_id: str | None = None) -> None:
    """Record a successful delivery (the row is never sent again)."""
    with db.atomic():
        db.execute_sql("UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
                       " channel_message_id = COALESCE(?, channel_message_id), last_error = NULL,"
                       " parts_sent = COALESCE(?, parts_sent), first_message_id = COALESCE(first_message_id, ?)"
                       " WHERE id = ?", (to_db(now), channel_message_id, parts_sent, first_message_id, row_id))
        db.execute_sql("INSERT INTO delivery_attempts (outbox_id, ts, ok) VALUES (?, ?, 1)", (row_id, to_db(now)))


def mark_failed_attempt(db: SqliteDatabase, row_id: int, now: datetime, error: str, permanent: bool,
                        next_attempt: datetime | None, parts_sent: int = 0,
                        first_message_id: str | None = None) -> None:
    """Record a failed attempt: back to pending at ``next_attempt``, or failed for good.

    ``parts_sent`` (never lowered) is how many parts of the message arrived before the failure.
    """
    with db.atomic():
        db.execute_sql("UPDATE outbox SET parts_sent = max(parts_sent, ?),"
                       " first_message_id = COALESCE(first_message_id, ?) WHERE id = ?",
                       (parts_sent, first_message_id, row_id))
        if permanent or next_attempt is None:
            db.execute_sql("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
                           (error, row_id))
        else:
            db.execute_sql("UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?,"
                           " next_attempt_at = ? WHERE id = ?", (error, to_db(next_attempt), row_id))
        db.execute_sql("INSERT INTO delivery_attempts (outbox_id, ts, ok, error, permanent) VALUES (?, ?, 0, ?, ?)",
                       (row_id, to_db(now), error, int(permanent)))


def recover_interrupted(db: SqliteDatabase) -> int:
    """Rows left in 'sending' by a crash go back to pending (at-least-once)."""
    return int(db.execute_sql("UPDATE outbox SET state = 'pending' WHERE state = 'sending'").rowcount)


def backoff(attempts: int, cap: float, base: float = 2.0) -> float:
    """Seconds before attempt ``attempts + 1``: 2, 4, 8, ... capped."""
    return float(min(cap, base ** max(1, attempts)))


def max_wait(cap: float) -> float:
    """The longest any row waits: a server's retry_after is believed up to one hour, our own
    backoff up to ``cap`` (``[delivery] max_backoff_seconds``), whichever is longer."""
    return max(cap, MAX_RETRY_AFTER_SECONDS)


def next_attempt_after(attempts: int, now: datetime, cap: float, retry_after: float | None) -> datetime:
    """When to try again: the server's retry_after if larger than our backoff, never past max_wait."""
    wait = max(backoff(attempts, cap), clamp_wait(retry_after, max_wait(cap)))
    return now + timedelta(seconds=wait)


def set_channel_state(db: SqliteDatabase, channel: str, ok: bool, now: datetime, error: str | None = None,
                      broken: bool = False, rate_limited_until: datetime | None = None) -> None:
    """Record a channel's health: ok after a success, broken after a permanent failure,
    rate-limited until ``rate_limited_until`` after a 429 (a success clears it)."""
    if ok:
        db.execute_sql(
            "INSERT INTO channel_state (channel, state, last_ok_at) VALUES (?, 'ok', ?)"
            " ON CONFLICT(channel) DO UPDATE SET state = 'ok', last_ok_at = excluded.last_ok_at,"
            " rate_limited_until = NULL",
            (channel, to_db(now)))
        return
    state = ChannelHealth.BROKEN if broken else ChannelHealth.OK
    until = to_db(rate_limited_until) if rate_limited_until else None
    db.execute_sql(
        "INSERT INTO channel_state (channel, state, last_error, last_error_at, rate_limited_until)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(channel) DO UPDATE SET state = CASE WHEN excluded.state = 'broken' THEN 'broken'"
        " ELSE channel_state.state END, last_error = excluded.last_error, last_error_at = excluded.last_error_at,"
        " rate_limited_until = COALESCE(excluded.rate_limited_until, channel_state.rate_limited_until)",
        (channel, state, error, to_db(now), until))


def channel_status(db: SqliteDatabase, channels: list[str], now: datetime | None = None, *,
                   unavailable: Mapping[str, str] | None = None, disabled: Sequence[str] = (),
                   standby: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Per channel: state, pending count, failed count, held count (routing keeps them back; not
    pending), last error (already redacted).

    The state is broken after a permanent failure; else unavailable when ``unavailable`` names the
    channel (with its reason); else rate-limited while a 429's wait lasts (with
    ``rate_limited_until``); else standby when ``standby`` names it (it delivers, its commands go
    elsewhere: with the reason); else ok. The ``disabled`` channels follow, with state disabled.
    """
    out = []
    for channel in [*channels, *disabled]:
        row = db.execute_sql("SELECT state, last_error, last_error_at, last_ok_at, rate_limited_until"
                             " FROM channel_state WHERE channel = ?", (channel,)).fetchone()
        pending = db.execute_sql("SELECT count(*) FROM outbox WHERE channel = ? AND state IN ('pending', 'sending')",
                                 (channel,)).fetchone()[0]
        failed = db.execute_sql("SELECT count(*) FROM outbox WHERE channel = ? AND state = 'failed'",
                                (channel,)).fetchone()[0]
        held = db.execute_sql("SELECT count(*) FROM outbox WHERE channel = ? AND state = 'held'",
                              (channel,)).fetchone()[0]
        state = row[0] if row else ChannelHealth.OK
        limited = row[4] if row and row[4] and from_db(row[4]) > (now or utcnow()) else None
        reason = None
        if channel in disabled:
            state, limited = ChannelHealth.DISABLED, None
        elif state != ChannelHealth.BROKEN and unavailable and channel in unavailable:
            state, reason = ChannelHealth.UNAVAILABLE, unavailable[channel]
        elif limited and state == ChannelHealth.OK:
            state = ChannelHealth.RATE_LIMITED
        elif state == ChannelHealth.OK and standby and channel in standby:
            state, reason = ChannelHealth.STANDBY, standby[channel]
        out.append({"name": channel, "state": str(state), "pending": pending, "failed": failed, "held": held,
                    "last_error": row[1] if row else None, "last_error_at": row[2] if row else None,
                    "last_ok_at": row[3] if row else None, "rate_limited_until": limited, "reason": reason})
    return out


def mark_working(db: SqliteDatabase, channel: str, now: datetime) -> int:
    """A channel proved it delivers (a successful test or setup): it is ok again, and its pending
    rows are due now instead of at their backed-off times. Returns the rows made due."""
    set_channel_state(db, channel, True, now)
    return int(db.execute_sql("UPDATE outbox SET next_attempt_at = ? WHERE channel = ? AND state = 'pending'",
                              (to_db(now), channel)).rowcount)


def routes(db: SqliteDatabase, notification_id: int) -> list[tuple[str, str, str | None]]:
    """(channel, outbox state, routing decision text) of each row of a notification, in channel-name order."""
    return [(r[0], r[1], r[2]) for r in db.execute_sql(
        "SELECT channel, state, route FROM outbox WHERE notification_id = ? ORDER BY channel", (notification_id,))]


def state_text(channel: dict[str, Any], zone: tzinfo | None = None) -> str:
    """A channel's state for people: 'ok', 'broken', 'rate-limited until 2026-12-01 14:05 CET'
    (in ``zone``; None: the machine's), 'unavailable (why)', 'standby (why)'."""
    until = channel.get("rate_limited_until")
    if channel["state"] == ChannelHealth.RATE_LIMITED and until:
        return f"rate-limited until {human_time(until, zone)}"
    if channel["state"] in (ChannelHealth.UNAVAILABLE, ChannelHealth.STANDBY) and channel.get("reason"):
        return f"{channel['state']} ({channel['reason']})"
    return str(channel["state"])


def sent_message_id(db: SqliteDatabase, notification_id: int, channel: str) -> str | None:
    """The channel message (last part, the one with buttons) a notification was delivered as here."""
    row = db.execute_sql("SELECT channel_message_id FROM outbox WHERE notification_id = ? AND channel = ?"
                         " AND state = 'sent'", (notification_id, channel)).fetchone()
    return row[0] if row else None


def message_id_for_alert(db: SqliteDatabase, alert_id: int, channel: str) -> str | None:
    """The channel message of the latest delivered alert notification that included ``alert_id``."""
    row = db.execute_sql(
        "SELECT o.channel_message_id FROM outbox o JOIN notifications n ON n.id = o.notification_id,"
        " json_each(n.alert_ids) j WHERE o.channel = ? AND o.state = 'sent' AND n.kind IN ('alert', 'digest')"
        " AND j.value = ? ORDER BY o.id DESC LIMIT 1", (channel, alert_id)).fetchone()
    return row[0] if row else None
