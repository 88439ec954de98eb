"""Retention of heartbeat_log: never drops an entry younger than the longest cooldown, nor the
latest recorded SENT of any check, so pruning can never turn a SUPPRESSED decision into a SENT one.

A clock set far forward for a moment (say to 2031) must not prune years of history. Ages are
measured from the pruning clock (``pruning_clock``): ``now``, but at most MAX_PRUNE_STEP past the
time the previous pruning measured from, kept in runtime_state as ``retention.pruned_at`` (before
the first pruning: the newest stored activity). So one run on a wrong clock prunes at most about a
week more than a correct run would, and a second jump cannot build on the first; a clock that
really moved on (a machine off for months) is caught up by the following weekly runs. Rows
stamped in the future are simply kept until their time comes; the cooldown lookup goes by
insertion order, so they never block it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine import runtime_state
from engine.timeutil import from_db, to_db

MAX_PRUNE_STEP = timedelta(days=8)  # the weekly cadence plus a day of slack
PRUNED_AT_KEY = "retention.pruned_at"


def retention_cutoff(now: datetime, retention: timedelta, longest_cooldown: timedelta) -> datetime:
    """Entries older than this may go."""
    return now - max(retention, longest_cooldown)


def pruning_clock(now: datetime, previous: datetime | None) -> datetime:
    """The time ages are measured from: ``now``, at most MAX_PRUNE_STEP past ``previous``."""
    if previous is None:
        return now
    return min(now, previous + MAX_PRUNE_STEP)


def pruning_now(db: SqliteDatabase, now: datetime) -> datetime:
    """The pruning clock for a run at ``now`` (see the module docstring)."""
    stored = runtime_state.get_value(db, PRUNED_AT_KEY)
    if stored:
        previous: datetime | None = from_db(stored)
    else:
        newest = db.execute_sql(
            "SELECT max(ts) FROM (SELECT max(ts) AS ts FROM heartbeat_log"
            " UNION ALL SELECT max(started_at) FROM check_runs)"
        ).fetchone()[0]
        previous = from_db(newest) if newest else None
    return pruning_clock(now, previous)


def record_pruning(db: SqliteDatabase, clock: datetime) -> None:
    """Remember the pruning clock of this run: the next run may go at most MAX_PRUNE_STEP further."""
    runtime_state.set_value(db, PRUNED_AT_KEY, to_db(clock), clock)


def prune_heartbeat_log(db: SqliteDatabase, now: datetime, retention: timedelta,
                        longest_cooldown: timedelta) -> int:
    """Delete decisions older than the cutoff, except each check's latest SENT; returns how many went.

    ``now`` is the pruning clock (``pruning_now``), not the raw wall clock.
    """
    cutoff = retention_cutoff(now, retention, longest_cooldown)
    with db.atomic():
        cursor = db.execute_sql(
            "DELETE FROM heartbeat_log WHERE ts < ? AND id NOT IN"
            " (SELECT max(id) FROM heartbeat_log WHERE decision = 'SENT' GROUP BY check_name)",
            (to_db(cutoff),))
    return int(cursor.rowcount)
