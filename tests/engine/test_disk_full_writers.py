"""Writers that repeat (scheduled jobs, the job log, the log file) on a full disk: one warning
per state change instead of a traceback per run, health's reason while writes fail, and the
reason cleared by the next successful write. Real fault injection on a small tmpfs."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from datetime import timezone

import peewee
import pytest

from engine.health import Health, HealthFacts, assess
from engine.logsetup import setup_logging
from engine.schedule_spec import parse_schedule
from engine.scheduler import JobSpec, Scheduler
from engine.store.db import DiskFull, disk_full_error, is_disk_full
from engine.store.diskwatch import DISK
from engine.timeutil import utcnow
from engine.units import open_db
from tests.helpers import wait_until
from tests.tinydisk import fill, tiny_disk


@pytest.fixture(autouse=True)
def _clear_disk_state():
    DISK.succeeded()
    yield
    DISK.succeeded()


def test_recognises_sqlite_full_enospc_and_a_full_disk_hidden_behind_a_failed_rollback():
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise peewee.OperationalError("database or disk is full")
        except peewee.OperationalError:
            raise peewee.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except peewee.OperationalError as masked:
        assert is_disk_full(masked)
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_disk_full_error_names_the_free_megabytes_and_the_database_folder(tmp_path):
    err = disk_full_error(tmp_path / "w.db")
    assert isinstance(err, DiskFull)
    assert str(err).startswith("disk full: ") and str(err).endswith(f" MB free at {tmp_path}")


def test_a_disk_full_problem_makes_health_degraded_with_that_reason():
    facts = HealthFacts(started=True, now=utcnow(), last_beat=utcnow(), beat_interval=60,
                        problems=["disk full: 0.3 MB free at /data"])
    report = assess(facts)
    assert report.state is Health.DEGRADED and report.reasons == ["disk full: 0.3 MB free at /data"]


def test_a_job_failing_on_a_full_disk_warns_once_and_clears_at_the_next_successful_write(tmp_path, caplog):
    with tiny_disk(tmp_path / "disk", 16) as disk:
        db = open_db(disk / "w.db")
        db.execute_sql("CREATE TABLE blobs (b BLOB)")
        runs: list[str] = []

        def bulky() -> None:
            runs.append("run")
            with db.atomic():
                db.execute_sql("INSERT INTO blobs VALUES (?)", (os.urandom(2_000_000),))
                db.execute_sql("DELETE FROM blobs")

        sched = Scheduler(db, timezone.utc)
        sched.register(JobSpec("bulky", bulky, parse_schedule("every 1h")))
        sched.start()
        try:
            filler = fill(disk, 200_000)
            caplog.set_level(logging.INFO)
            for n in range(1, 4):
                assert sched.run_now("bulky")
                wait_until(lambda n=n: len(runs) == n and not sched.states["bulky"].running, timeout=10)
                state = sched.states["bulky"]
                assert state.last_outcome == "error"
                assert state.last_error.startswith("DiskFull: disk full: ")
            assert DISK.problem is not None and DISK.problem.endswith(f"MB free at {disk}")
            warnings = [r for r in caplog.records if "disk full" in r.getMessage()]
            assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
            assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

            filler.unlink()
            assert sched.run_now("bulky")
            wait_until(lambda: len(runs) == 4 and not sched.states["bulky"].running, timeout=10)

            assert sched.states["bulky"].last_outcome == "ok"
            assert DISK.problem is None
            assert len([r for r in caplog.records if "disk space is back" in r.getMessage()]) == 1
        finally:
            sched.shutdown(5)
            db.close()


def test_a_log_file_on_a_full_disk_drops_records_without_printing_tracebacks(tmp_path, capfd):
    with tiny_disk(tmp_path / "disk", 2) as disk:
        setup_logging(disk / "logs" / "watchkeeper.log", stderr=False)
        try:
            fill(disk, 0)
            for i in range(50):
                logging.getLogger("engine.test").warning("line %d", i)
        finally:
            setup_logging(None, stderr=False)
        err = capfd.readouterr().err
        assert "Logging error" not in err and "Traceback" not in err
