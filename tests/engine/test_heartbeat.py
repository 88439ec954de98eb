"""Heartbeat: daemon_state, wall-clock gaps (sleep) and downtime between instances."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.heartbeat import Heartbeat, detect_gap, gaps_between
from engine.timeutil import from_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


class FakeClocks:
    """Injected wall and monotonic clocks that tests move by hand."""

    def __init__(self) -> None:
        self.wall_now = T0
        self.mono_now = 1000.0

    def wall(self) -> datetime:
        return self.wall_now

    def mono(self) -> float:
        return self.mono_now

    def advance(self, wall_seconds: float, mono_seconds: float | None = None) -> None:
        self.wall_now += timedelta(seconds=wall_seconds)
        self.mono_now += wall_seconds if mono_seconds is None else mono_seconds


def test_regular_beats_are_not_gaps():
    assert detect_gap(T0, 0.0, T0 + timedelta(seconds=60), 60.0, 60) is None
    assert detect_gap(T0, 0.0, T0 + timedelta(seconds=120), 120.0, 60) is None


def test_beat_more_than_twice_the_interval_late_is_a_gap():
    gap = detect_gap(T0, 0.0, T0 + timedelta(seconds=121), 61.0, 60)
    assert gap is not None and gap.kind == "asleep"
    assert gap.start == T0 + timedelta(seconds=60)


def test_clock_jump_of_eight_hours_is_recorded_as_one_gap(db):
    clocks = FakeClocks()
    gaps = []
    hb = Heartbeat(db, 60, wall=clocks.wall, mono=clocks.mono, on_gap=gaps.append)
    hb.start_instance()
    clocks.advance(60)
    assert hb.beat() is None
    clocks.advance(8 * 3600, mono_seconds=60)  # suspended: monotonic barely moved
    gap = hb.beat()
    clocks.advance(60)
    assert hb.beat() is None
    assert gap is not None and gap.kind == "asleep"
    assert len(gaps) == 1
    rows = db.execute_sql("SELECT kind, seconds FROM heartbeat_gaps").fetchall()
    assert rows == [("asleep", 8 * 3600 - 60)]
    events = db.execute_sql("SELECT kind FROM discovered_events").fetchall()
    assert events == [("sleep_gap",)]


def test_beat_updates_daemon_state(db):
    clocks = FakeClocks()
    hb = Heartbeat(db, 60, wall=clocks.wall, mono=clocks.mono)
    hb.start_instance(pid=4242)
    clocks.advance(60)
    hb.beat()
    pid, last = db.execute_sql("SELECT pid, last_beat_at FROM daemon_state").fetchone()
    assert pid == 4242
    assert from_db(last) == T0 + timedelta(seconds=60)


def test_start_records_downtime_since_previous_instance_and_unclean_stop(db):
    clocks = FakeClocks()
    first = Heartbeat(db, 60, wall=clocks.wall, mono=clocks.mono)
    first.start_instance()
    clocks.advance(60)
    first.beat()  # then the process is killed: no mark_stopped
    clocks.advance(3 * 3600)
    gap = Heartbeat(db, 60, wall=clocks.wall, mono=clocks.mono).start_instance()
    assert gap is not None and gap.kind == "down"
    assert gap.seconds == 3 * 3600
    kinds = {r[0] for r in db.execute_sql("SELECT kind FROM discovered_events")}
    assert kinds == {"downtime", "unclean_shutdown"}


def test_clean_stop_is_recorded(db):
    clocks = FakeClocks()
    hb = Heartbeat(db, 60, wall=clocks.wall, mono=clocks.mono)
    hb.start_instance()
    hb.mark_stopped("signal SIGTERM")
    clean, reason = db.execute_sql("SELECT clean_shutdown, stop_reason FROM daemon_state").fetchone()
    assert (clean, reason) == (1, "signal SIGTERM")


def test_gaps_between_clips_to_the_window(db):
    clocks = FakeClocks()
    hb = Heartbeat(db, 60, wall=clocks.wall, mono=clocks.mono)
    hb.start_instance()
    clocks.advance(4 * 3600, mono_seconds=1)
    hb.beat()
    window = gaps_between(db, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert len(window) == 1
    assert window[0].seconds == 3600
