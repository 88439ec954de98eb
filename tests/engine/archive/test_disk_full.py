"""A full disk during an archive run: one clear error, the run stops, the database stays intact,
and the next run, with space back, continues where it stopped. Real fault injection: the
database lives on a small tmpfs whose free space a filler file sets."""

from __future__ import annotations

import os
import re

import pytest

from engine.archive import runs, service
from engine.units import open_db
from tests.helpers import cli
from tests.tinydisk import fill, tiny_disk

from ._gen import write_sessions

MESSAGE = re.compile(r"^disk full: \d+\.\d MB free at (?P<folder>/\S+)$")


@pytest.fixture
def disk(tmp_path):
    with tiny_disk(tmp_path / "disk", 64) as where:
        yield where


def _files(db):
    """(path, size on disk, archived offset) of every known file."""
    rows = db.execute_sql("SELECT path, parsed_offset FROM archive_files").fetchall()
    return [(path, os.path.getsize(path), off) for path, off in rows]


@pytest.mark.parametrize("workers", [0, 1], ids=["inline", "worker-process"])
def test_a_full_disk_stops_the_run_with_one_error_and_the_next_run_continues(tmp_path, disk, workers):
    src = tmp_path / "src"
    first = write_sessions(src / "a", 2, 100_000)
    db = open_db(disk / "data" / "w.db")
    assert service.run_archive(db, [str(src / "a")], tail_idle_seconds=0).errors == []
    before = db.execute_sql("SELECT session_id, human_prompts FROM conversation_archive_sessions"
                            " ORDER BY 1").fetchall()
    write_sessions(src / "b", 14, 300_000)
    filler = fill(disk, 1_000_000)

    res = service.run_archive(db, [str(src)], tail_idle_seconds=0, workers=workers)

    assert res.disk_full is not None
    match = MESSAGE.match(res.disk_full)
    assert match and match["folder"] == str(disk / "data")
    assert res.errors == [res.disk_full]  # one error for the run, not one per file
    assert res.files_failed == 0
    assert res.files_parsed + res.files_skipped < res.files_seen
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    row = db.execute_sql("SELECT status, error FROM conversation_archive_runs WHERE id = ?",
                         (res.run_id,)).fetchone()
    assert row == (runs.RunStatus.DISK_FULL, res.disk_full)
    assert runs.disk_full_problem(db).startswith("disk full: ")
    # Everything committed before is there; every file is archived whole or not at all.
    assert set(before) <= set(db.execute_sql(
        "SELECT session_id, human_prompts FROM conversation_archive_sessions").fetchall())
    files = _files(db)
    assert all(off in (0, size) for _, size, off in files)
    archived = sum(1 for _, size, off in files if off == size)
    assert db.execute_sql("SELECT count(*) FROM conversation_archive_sessions").fetchone()[0] == archived

    filler.unlink()
    again = service.run_archive(db, [str(src)], tail_idle_seconds=0, workers=workers)

    assert again.errors == [] and again.disk_full is None
    assert again.files_parsed == 16 - archived  # only what the stopped run had not committed
    assert all(off == size for _, size, off in _files(db))
    assert db.execute_sql("SELECT count(*) FROM conversation_archive_sessions").fetchone()[0] == 16
    assert runs.disk_full_problem(db) is None
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {s for s, _ in before} <= {r[0] for r in db.execute_sql(
        "SELECT session_id FROM conversation_archive_sessions").fetchall()}
    assert first  # the first two sessions were archived before the disk filled


def test_status_and_doctor_without_an_instance_name_a_run_a_full_disk_stopped(wk_home):
    db = open_db(wk_home.db_file)
    db.execute_sql("INSERT INTO conversation_archive_runs (started_at, finished_at, status, error)"
                   " VALUES ('2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 'disk_full',"
                   " 'disk full: 0.2 MB free at /x/data')")
    db.close()

    status = cli("status")
    doctor = cli("doctor")

    assert "Problem: disk full: 0.2 MB free at /x/data (archive run 1 stopped" in status.stdout
    assert "PROBLEM disk: disk full: 0.2 MB free at /x/data" in doctor.stdout
    assert doctor.returncode == 1
