"""Scheduler: runs recorded, errors kept, run-now, catch-up of missed daily jobs."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from engine.heartbeat import Heartbeat
from engine.schedule_spec import parse_schedule
from engine.scheduler import JobSpec, Scheduler, due_for_catchup
from tests.helpers import wait_until

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def test_due_for_catchup_boundaries():
    assert due_for_catchup(NOW - DAY, None, DAY, NOW) is True
    assert due_for_catchup(NOW - DAY + timedelta(seconds=1), None, DAY, NOW) is False
    assert due_for_catchup(None, NOW - 2 * DAY, DAY, NOW) is True  # never ran, installed long ago
    assert due_for_catchup(None, NOW - timedelta(hours=1), DAY, NOW) is False
    assert due_for_catchup(None, None, DAY, NOW) is False


def test_only_daily_and_weekly_cron_jobs_catch_up():
    assert JobSpec("a", lambda: None, parse_schedule("cron 0 2 * * *")).catchup
    assert JobSpec("w", lambda: None, parse_schedule("cron 0 3 * * sun")).catchup
    assert not JobSpec("h", lambda: None, parse_schedule("cron 0 * * * *")).catchup
    assert not JobSpec("i", lambda: None, parse_schedule("every 1d")).catchup


class Recorder:
    def __init__(self, fail: bool = False):
        self.calls = 0
        self.fail = fail
        self.event = threading.Event()

    def __call__(self) -> None:
        self.calls += 1
        self.event.set()
        if self.fail:
            raise RuntimeError("boom")


@pytest.fixture
def sched(db):
    s = Scheduler(db, timezone.utc, misfire_grace_seconds=3600)
    yield s
    s.shutdown(5)


def _wait_runs(db, job: str, count: int) -> list[tuple]:
    """The runs of ``job`` once at least ``count`` are recorded."""
    return wait_until(
        lambda: (rows := db.execute_sql("SELECT outcome, error FROM job_runs WHERE job = ?", (job,)).fetchall())
        and len(rows) >= count and rows,
        message=f"{count} runs of {job}",
    )


def test_failing_job_is_recorded_and_keeps_its_schedule(db, sched):
    job = Recorder(fail=True)
    sched.register(JobSpec("flaky", job, parse_schedule("every 1h")))
    sched.start()
    assert sched.run_now("flaky")
    rows = _wait_runs(db, "flaky", 1)
    assert rows == [("error", "RuntimeError: boom")]
    assert sched.states["flaky"].last_outcome == "error"
    assert sched.next_run("flaky") is not None


def test_run_now_of_unknown_job_is_false(sched):
    sched.start()
    assert sched.run_now("nope") is False


def test_daily_job_missed_during_an_eight_hour_sleep_runs_once(db):
    """The heartbeat sees an 8 h wall-clock jump; the catch-up runs the missed daily job once."""
    wall = {"now": NOW}
    mono = {"now": 100.0}
    hb = Heartbeat(db, 60, wall=lambda: wall["now"], mono=lambda: mono["now"])
    hb.start_instance()
    # The daily job last succeeded 20 h ago, so its 02:00 slot fell inside the sleep.
    db.execute_sql("INSERT INTO job_runs (job, started_at, finished_at, outcome) VALUES ('archive', ?, ?, 'ok')",
                   ((NOW - timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),) * 2)
    sched = Scheduler(db, timezone.utc, now=lambda: wall["now"])
    daily = Recorder()
    sched.register(JobSpec("archive", daily, parse_schedule("cron 0 2 * * *")))
    sched.start()
    assert sched.catch_up("startup") == []  # not due yet
    hb._on_gap = lambda gap: sched.catch_up("after a gap")
    wall["now"] += timedelta(hours=8)
    mono["now"] += 1
    assert hb.beat() is not None
    assert daily.event.wait(10)
    rows = _wait_runs(db, "archive", 2)
    assert [r[0] for r in rows] == ["ok", "ok"]
    assert sched.catch_up("again") == []  # it succeeded now: no second run
    sched.shutdown(5)
    assert daily.calls == 1


def test_shutdown_waits_a_bounded_time_for_running_jobs(db):
    sched = Scheduler(db, timezone.utc)
    release = threading.Event()
    started = threading.Event()

    def slow() -> None:
        started.set()
        release.wait(30)

    sched.register(JobSpec("slow", slow, parse_schedule("every 1h")))
    sched.start()
    sched.run_now("slow")
    assert started.wait(10)
    assert sched.shutdown(0.2) == ["slow"]
    release.set()


def test_shutdown_returns_a_job_still_running_and_a_sealed_scheduler_records_nothing_more(db):
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(30)

    s = Scheduler(db, timezone.utc)
    s.register(JobSpec("slow", slow, parse_schedule("every 1h")))
    s.start()
    s.run_now("slow")
    assert started.wait(10)
    assert s.shutdown(0) == ["slow"]
    s.seal()
    release.set()
    wait_until(lambda: not s.states["slow"].running, message="the job to end")
    assert s.drain(5) == []
    assert db.execute_sql("SELECT count(*) FROM job_runs WHERE job = 'slow'").fetchone()[0] == 0
