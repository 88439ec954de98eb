"""Heartbeat: every interval, write daemon_state and detect wall-clock gaps.

A gap is a beat that came more than twice the interval after the previous one. Comparing the
wall-clock delta with the monotonic delta tells a suspended machine (wall moved, monotonic did
not) from a busy one; both are recorded as kind ``asleep`` because the instance was alive but not
beating. At startup the time since the previous instance's last beat is recorded as ``down``.
Later checks (session_crash) subtract these gaps from inactivity.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine import __version__
from engine.events import record_event
from engine.timeutil import format_duration, from_db, to_db, utcnow
from engine.vocabulary import Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """A stretch of time with no heartbeat."""

    start: datetime
    end: datetime
    kind: str  # "asleep" | "down"

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def detect_gap(
    prev_wall: datetime, prev_mono: float, wall: datetime, mono: float, interval: float
) -> Gap | None:
    """The gap between two beats, if the wall clock moved more than twice the interval."""
    wall_delta = (wall - prev_wall).total_seconds()
    if wall_delta <= 2 * interval:
        return None
    mono_delta = mono - prev_mono
    # The expected beat after prev is not a gap; the gap starts one interval later.
    if wall_delta - mono_delta > interval:
        log.info("wall clock moved %.0f s while monotonic moved %.0f s: suspended", wall_delta, mono_delta)
    return Gap(start=prev_wall + timedelta(seconds=interval), end=wall, kind="asleep")


def record_gap(db: SqliteDatabase, gap: Gap, now: datetime) -> bool:
    """Store a gap once (start, kind unique); returns True when it was new."""
    cursor = db.execute_sql(
        "INSERT OR IGNORE INTO heartbeat_gaps (start, end, kind, seconds, detected_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (to_db(gap.start), to_db(gap.end), gap.kind, gap.seconds, to_db(now)),
    )
    if cursor.rowcount:
        record_event(
            db,
            ts=now,
            source="heartbeat",
            kind="downtime" if gap.kind == "down" else "sleep_gap",
            subject=gap.kind,
            detail={"start": to_db(gap.start), "end": to_db(gap.end), "seconds": gap.seconds,
                    "text": format_duration(gap.end - gap.start)},
        )
        return True
    return False


def gaps_between(db: SqliteDatabase, start: datetime, end: datetime) -> list[Gap]:
    """Recorded gaps overlapping [start, end], clipped to it."""
    rows = db.execute_sql(
        "SELECT start, end, kind FROM heartbeat_gaps WHERE end > ? AND start < ? ORDER BY start",
        (to_db(start), to_db(end)),
    ).fetchall()
    return [Gap(max(from_db(s), start), min(from_db(e), end), k) for s, e, k in rows]


class Heartbeat:
    """The heartbeat of one running instance (one daemon_state row)."""

    def __init__(
        self,
        db: SqliteDatabase,
        interval: float,
        *,
        wall: Callable[[], datetime] = utcnow,
        mono: Callable[[], float] = time.monotonic,
        on_gap: Callable[[Gap], None] = lambda gap: None,
    ):
        self.db = db
        self.interval = interval
        self._wall = wall
        self._mono = mono
        self._on_gap = on_gap
        self.instance_id: int | None = None
        self._prev: tuple[datetime, float] | None = None
        self.started_at: datetime | None = None

    def start_instance(self, pid: int | None = None, create_time: float | None = None) -> Gap | None:
        """Open this instance's daemon_state row; record the downtime since the previous one."""
        now = self._wall()
        self.started_at = now
        with self.db.atomic("IMMEDIATE"):
            prev = self.db.execute_sql(
                "SELECT id, started_at, last_beat_at, clean_shutdown FROM daemon_state"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
            cursor = self.db.execute_sql(
                "INSERT INTO daemon_state (pid, create_time, version, hostname, started_at, last_beat_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (pid or os.getpid(), create_time, __version__, socket.gethostname(), to_db(now), to_db(now)),
            )
            self.instance_id = int(cursor.lastrowid)
            gap = None
            if prev is not None:
                last = from_db(prev[2] or prev[1])
                down = (now - last).total_seconds()
                # A crash is downtime however short; a clean restart only when it took a while.
                if down > 2 * self.interval or (not prev[3] and down > 0):
                    gap = Gap(start=last, end=now, kind="down")
                    record_gap(self.db, gap, now)
                if not prev[3]:
                    record_event(self.db, ts=now, source="heartbeat", kind="unclean_shutdown",
                                 subject=str(prev[0]), severity=Severity.WARNING,
                                 detail={"previous_instance": prev[0], "last_beat": prev[2]})
        self._prev = (now, self._mono())
        return gap

    def beat(self) -> Gap | None:
        """Write the beat; detect and record a gap since the previous one."""
        wall, mono = self._wall(), self._mono()
        gap = None
        if self._prev is not None:
            gap = detect_gap(self._prev[0], self._prev[1], wall, mono, self.interval)
        self._prev = (wall, mono)
        with self.db.atomic():
            self.db.execute_sql(
                "UPDATE daemon_state SET last_beat_at = ? WHERE id = ?", (to_db(wall), self.instance_id)
            )
            if gap is not None and not record_gap(self.db, gap, wall):
                gap = None
        if gap is not None:
            log.warning("heartbeat gap of %s (%s)", format_duration(gap.end - gap.start), gap.kind)
            self._on_gap(gap)
        return gap

    def mark_stopped(self, reason: str) -> None:
        """Record a clean shutdown of this instance."""
        if self.instance_id is None:
            return
        now = to_db(self._wall())
        self.db.execute_sql(
            "UPDATE daemon_state SET stopped_at = ?, clean_shutdown = 1, stop_reason = ?, last_beat_at = ?"
            " WHERE id = ?",
            (now, reason, now, self.instance_id),
        )
