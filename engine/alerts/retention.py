"""Retention of heartbeat_log: never drops an entry younger than the longest cooldown, so
pruning can never turn a SUPPRESSED decision into a SENT one."""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine.timeutil import to_db


def retention_cutoff(now: datetime, retention: timedelta, longest_cooldown: timedelta) -> datetime:
    """Entries older than this may go."""
    return now - max(retention, longest_cooldown)


def prune_heartbeat_log(db: SqliteDatabase, now: datetime, retention: timedelta,
                        longest_cooldown: timedelta) -> int:
    """Delete decisions older than the cutoff; returns how many went."""
    cutoff = retention_cutoff(now, retention, longest_cooldown)
    with db.atomic():
        cursor = db.execute_sql("DELETE FROM heartbeat_log WHERE ts < ?", (to_db(cutoff),))
    return int(cursor.rowcount)
