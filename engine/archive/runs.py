"""The archive's run log (``conversation_archive_runs``): who runs, what stopped a run, and runs
whose process died.

Every run records the PID and OS create time of the process running it. A row still
``running`` whose process is gone (killed, crashed, machine off) is marked ``interrupted`` at
the next start of the instance and of every archive run; a run of another *live* process
(a CLI ``archive run`` while the instance runs) is left alone. The pair (PID, create time)
tells a reused PID apart. ``finished_at`` of an interrupted run stays NULL (when the process
died is not known); ``error`` says when it was noticed. What the run had committed stays, and
the next run continues from each file's recorded offset.

A run stopped by a full disk is ``disk_full``; until a later run finishes, health names it.
A run that stopped early (``disk_full``, ``failed``, ``interrupted``) may have committed files
whose sessions it never recomputed: the next run recomputes the sessions of every file scanned
since then and, once that is committed, marks those runs settled (``settled_at``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from peewee import SqliteDatabase

from engine.platform.processes import PidInfo, pid_alive, process_create_time
from engine.timeutil import to_db, utcnow

log = logging.getLogger(__name__)


class RunStatus(StrEnum):
    """How an archive run stands or ended (``conversation_archive_runs.status``)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # finished, but some files could not be read
    FAILED = "failed"
    DISK_FULL = "disk_full"
    INTERRUPTED = "interrupted"  # its process died while it ran


STOPPED_EARLY = (RunStatus.DISK_FULL, RunStatus.FAILED, RunStatus.INTERRUPTED)


def process_alive(pid: int | None, create_time: float | None) -> bool:
    """True when the process that wrote (pid, create_time) still runs (a reused PID does not)."""
    if pid is None:
        return False  # rows from before the runner was recorded: no process can be found for them
    if create_time is None:
        return False  # never recorded without a create time by this code; treat as unknown and gone
    return pid_alive(PidInfo(pid=pid, create_time=create_time))


def mark_interrupted(
    db: SqliteDatabase, now: datetime | None = None,
    alive: Callable[[int | None, float | None], bool] = process_alive,
) -> list[int]:
    """Mark every ``running`` run whose process is gone as ``interrupted``; return their ids."""
    rows = db.execute_sql(
        "SELECT id, pid, pid_create_time FROM conversation_archive_runs WHERE status = ?", (RunStatus.RUNNING,)
    ).fetchall()
    gone = [(rid, pid) for rid, pid, ct in rows if not alive(pid, ct)]
    if not gone:
        return []
    noticed = to_db(now or utcnow())
    with db.atomic("IMMEDIATE"):
        for rid, pid in gone:
            who = f"PID {pid}" if pid is not None else "an unknown process"
            db.execute_sql(
                "UPDATE conversation_archive_runs SET status = ?, error = ? WHERE id = ? AND status = ?",
                (RunStatus.INTERRUPTED, f"interrupted: the run's process ({who}) ended before it finished;"
                 f" noticed {noticed}", rid, RunStatus.RUNNING))
    ids = [rid for rid, _ in gone]
    log.warning("archive runs %s were interrupted (their process is gone); marked interrupted",
                ", ".join(map(str, ids)))
    return ids


def start_run(db: SqliteDatabase, started_at: str, trigger: str) -> int:
    """Insert a ``running`` row owned by this process (after marking dead runs); its id."""
    mark_interrupted(db)
    pid = os.getpid()
    cur = db.execute_sql(
        "INSERT INTO conversation_archive_runs (started_at, status, trigger, pid, pid_create_time)"
        " VALUES (?, ?, ?, ?, ?)", (started_at, RunStatus.RUNNING, trigger, pid, process_create_time(pid)))
    return int(cur.lastrowid)


def unsettled(db: SqliteDatabase, current: int) -> tuple[list[int], set[str]]:
    """Runs before ``current`` that stopped early and are not settled, and the sessions of the
    files scanned since the first of them began (their counters may be stale)."""
    marks = ",".join("?" * len(STOPPED_EARLY))
    rows = db.execute_sql(
        f"SELECT id, started_at FROM conversation_archive_runs WHERE status IN ({marks})"
        " AND settled_at IS NULL AND id < ?", (*STOPPED_EARLY, current)).fetchall()
    if not rows:
        return [], set()
    since = min(r[1] for r in rows)
    sessions = {r[0] for r in db.execute_sql(
        "SELECT DISTINCT fs.session_id FROM archive_file_sessions fs JOIN archive_files f"
        " ON f.id = fs.file_id WHERE f.last_scanned >= ?", (since,)).fetchall()}
    return [r[0] for r in rows], sessions


def mark_settled(db: SqliteDatabase, ids: list[int], now_s: str) -> None:
    """Record that the sessions left by runs ``ids`` have been recomputed."""
    if ids:
        db.execute_sql(
            f"UPDATE conversation_archive_runs SET settled_at = ? WHERE id IN ({','.join('?' * len(ids))})",
            (now_s, *ids))


RUN_COLUMNS = ("id", "started_at", "finished_at", "status", "trigger", "files_seen", "files_parsed",
               "files_skipped", "bytes_read", "sessions_new", "sessions_updated", "bad_lines", "duration_s",
               "error", "pid")


def list_runs(db: SqliteDatabase, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    """The most recent runs (``RUN_COLUMNS``), newest first, after skipping ``offset``."""
    rows = db.execute_sql(
        f"SELECT {', '.join(RUN_COLUMNS)} FROM conversation_archive_runs ORDER BY id DESC LIMIT ? OFFSET ?",
        (limit, offset)).fetchall()
    return [dict(zip(RUN_COLUMNS, r, strict=True)) for r in rows]


def count_runs(db: SqliteDatabase) -> int:
    """How many runs are recorded."""
    return int(db.execute_sql("SELECT count(*) FROM conversation_archive_runs").fetchone()[0])


def count_sessions(db: SqliteDatabase) -> int:
    """How many conversation sessions the archive holds."""
    return int(db.execute_sql("SELECT count(*) FROM conversation_archive_sessions").fetchone()[0])


def disk_full_problem(db: SqliteDatabase) -> str | None:
    """The health reason while the last finished archive run was stopped by a full disk, else None."""
    row = db.execute_sql(
        "SELECT id, status, error FROM conversation_archive_runs WHERE status NOT IN (?, ?)"
        " ORDER BY id DESC LIMIT 1", (RunStatus.RUNNING, RunStatus.INTERRUPTED)).fetchone()
    if row is None or row[1] != RunStatus.DISK_FULL:
        return None
    first = (row[2] or "disk full").splitlines()[0]
    return f"{first} (archive run {row[0]} stopped; free space, then 'watchkeeper archive run' continues it)"
