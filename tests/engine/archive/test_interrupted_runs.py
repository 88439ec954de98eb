"""A run left "running" by a process that died is marked "interrupted" at the next start (of an
archive run, and of the instance); a run of another live process is left alone. Real
processes: the runner's PID and create time are recorded, and checked with psutil."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys

import psutil
import pytest

from engine.archive import runs
from engine.units import open_db
from tests.engine.api.instance import Client, running_instance
from tests.helpers import ROOT, cli, wait_until

from ._gen import write_sessions

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _run_row(db, pid, create_time):
    cur = db.execute_sql(
        "INSERT INTO conversation_archive_runs (started_at, status, trigger, pid, pid_create_time)"
        " VALUES ('2026-01-01T00:00:00Z', 'running', 'cli', ?, ?)", (pid, create_time))
    return cur.lastrowid


def _status(db, rid):
    return db.execute_sql("SELECT status, finished_at, error FROM conversation_archive_runs WHERE id = ?",
                          (rid,)).fetchone()


def test_only_runs_whose_process_is_gone_are_marked_interrupted(tmp_path):
    db = open_db(tmp_path / "a.db")
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    child_ct = psutil.Process(child.pid).create_time()
    live_child = _run_row(db, child.pid, child_ct)
    me = os.getpid()
    mine = _run_row(db, me, psutil.Process(me).create_time())
    reused = _run_row(db, me, psutil.Process(me).create_time() - 3600)  # same PID, another process
    unknown = _run_row(db, None, None)  # written before the runner was recorded

    assert runs.mark_interrupted(db) == [reused, unknown]
    assert _status(db, live_child)[0] == _status(db, mine)[0] == "running"

    child.stdin.close()
    child.wait(10)
    assert runs.mark_interrupted(db) == [live_child]
    status, finished, error = _status(db, live_child)
    assert status == "interrupted" and finished is None  # when it died is unknown
    assert f"PID {child.pid}" in error and "noticed" in error
    assert _status(db, mine)[0] == "running"


def _start_big_run(paths, src):
    """`archive run` on a big source, killable; returns once its run row exists (and the row id)."""
    proc = subprocess.Popen([sys.executable, "-m", "engine", "archive", "run", "--source", str(src)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def row():
        if proc.poll() is not None:
            raise AssertionError(f"archive run exited early with {proc.returncode}")
        try:
            with sqlite3.connect(paths.db_file, timeout=5) as conn:
                return conn.execute("SELECT id, pid FROM conversation_archive_runs WHERE status = 'running'"
                                    ).fetchone()
        except sqlite3.OperationalError:
            return None  # not created or not migrated yet

    rid, pid = wait_until(row, timeout=60, message="the run's row")
    assert pid == proc.pid
    return proc, rid


def _kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


@pytest.fixture
def big_source(tmp_path):
    src = tmp_path / "big"
    write_sessions(src, 25, 1_000_000)  # under the worker-process threshold: files commit one by one
    return src


def _prompts(paths):
    with sqlite3.connect(paths.db_file, timeout=5) as conn:
        return conn.execute("SELECT session_id, human_prompts FROM conversation_archive_sessions").fetchall()


def test_a_killed_archive_run_is_marked_interrupted_by_the_next_run_and_a_live_one_is_not(
        wk_home, tmp_path, big_source):
    proc, rid = _start_big_run(wk_home, big_source)
    try:
        db = open_db(wk_home.db_file)
        assert runs.mark_interrupted(db) == []  # its process is alive: another process's run
        assert _status(db, rid)[0] == "running"
        wait_until(lambda: len(_prompts(wk_home)) >= 2, timeout=60, message="two files archived")
    finally:
        _kill(proc)
    stale = _prompts(wk_home)
    assert 2 <= len(stale) < 25 and all(n == 0 for _, n in stale)  # counters come at the run's end
    small = tmp_path / "small"
    write_sessions(small, 1, 10_000)

    assert cli("archive", "run", "--source", str(small)).returncode == 0
    # The next run recomputed the sessions the killed one had committed, though not its source.
    after = dict(_prompts(wk_home))
    assert all(after[sid] > 0 for sid, _ in stale)

    listed = json.loads(cli("archive", "runs", "--json").stdout)
    killed = next(r for r in listed if r["id"] == rid)
    assert killed["status"] == "interrupted" and killed["finished_at"] is None
    assert listed[0]["status"] == "ok"
    assert "interrupted" in cli("archive", "runs").stdout
    with sqlite3.connect(wk_home.db_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_instance_start_marks_a_killed_run_interrupted_and_the_api_lists_it(wk_home, big_source):
    proc, rid = _start_big_run(wk_home, big_source)
    _kill(proc)

    with running_instance(wk_home, "[archive]\nenabled = false") as (port, token):
        status, page = Client(port, token).request("GET", "/archive/runs")

    assert status == 200
    assert next(r for r in page["items"] if r["id"] == rid)["status"] == "interrupted"
