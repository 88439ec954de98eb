"""The archive's entry points, as plain functions: used by the CLI, the nightly job, the
session watcher and (later) the HTTP API.

``run_archive`` discovers files, ingests each one incrementally (one stat for an unchanged
file; appended bytes only for a grown one; a full reparse for a rewritten or truncated one),
recomputes the counters of touched sessions, refreshes idle sessions' summaries and records
the run in ``conversation_archive_runs``. A failing file is recorded and never aborts the run;
a full disk does: the run stops at the first write that fails for lack of space (every file
other than the one being written was committed whole or not at all, so the next run continues
where this one stopped) and the run's one error is ``disk full: N MB free at FOLDER``.

Work split: the calling thread decides what to read (a stat, and for a grown file a
fingerprint), then hands each file range (a :class:`~engine.archive.parse.Task`) to
:mod:`engine.archive.parse`, which parses it into jobs (typed rows and raw chunks, compressed by
:mod:`engine.archive.codec`). When a run has more than ``PARALLEL_MIN_BYTES`` to read, that
happens behind :mod:`engine.archive.worker` (worker processes, one per spare core, each
compressing in a thread of its own; a frozen build uses background threads instead) and the
calling thread only writes (every job in one
savepoint, ``executemany`` per table), building session counters and summaries as sessions
complete. Smaller runs (the session watcher, most tests) parse inline.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import orjson
from peewee import SqliteDatabase

from engine.archive import codex, runs, store, summary, usage_buckets
from engine.archive.discover import (
    CODEX_ROLLOUT,
    SUBAGENT,
    UNKNOWN,
    WORKFLOW_SIDE,
    Found,
    Root,
    default_roots,
    discover,
)
from engine.archive.model import SessionView, ToolCallView
from engine.archive.parse import FLUSH_BYTES, Job, Task, parse_task
from engine.archive.reader import DEFAULT_MAX_LINE_BYTES, decode_line, fingerprint
from engine.archive.rows import FileScan
from engine.archive.search import MARKS as SEARCH_MARKS
from engine.archive.search import search as _search
from engine.archive.worker import Done, Failed, ParseThread, WorkerPool
from engine.store.db import DiskFull, disk_full_error, is_disk_full
from engine.timeutil import to_db, utcnow

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_LINE_BYTES", "FLUSH_BYTES", "RunResult", "run_archive"]

DEFAULT_TAIL_IDLE_SECONDS = 6 * 3600
DEFAULT_SUMMARY_IDLE_MINUTES = 30
# Below this many bytes to read, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
# During a run the WAL is checkpointed every this many pages (instead of SQLite's 1000), so a
# bulk ingest does not stop every 4 MB to copy pages back and fsync; restored afterwards.
BULK_WAL_AUTOCHECKPOINT = 16384
GROUP_BYTES = 32 * 1024 * 1024

Progress = Callable[[int, int, int], None]  # (files done, files total, bytes read)


def default_workers() -> int:
    """Parse processes for a big run: one per core beyond the writer's, at least one, at most
    three (each holds ~60 MB RSS; with two cores, one worker plus the writer measured as fast
    as two workers and keeps the run's total RSS under 150 MB). Each worker also compresses in
    a thread of its own."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return max(1, min(3, cores - 1))


@dataclass
class RunResult:
    """What one archive run did (mirrors conversation_archive_runs)."""

    run_id: int
    files_seen: int = 0
    files_parsed: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    files_reparsed: int = 0
    bytes_read: int = 0
    sessions_new: int = 0
    sessions_updated: int = 0
    bad_lines: int = 0
    summaries: int = 0
    duration_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    disk_full: str | None = None  # "disk full: N MB free at FOLDER" when a full disk stopped the run

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class _Options:
    max_line_bytes: int
    tail_idle_seconds: float
    now: datetime


@dataclass
class _RunState:
    result: RunResult
    now_s: str
    touched: set[str] = field(default_factory=set)
    # Touched since their counters were last recomputed (all of them at the end of the run).
    dirty: set[str] = field(default_factory=set)
    summarized: set[str] = field(default_factory=set)
    new_sessions: set[str] = field(default_factory=set)
    updated_sessions: set[str] = field(default_factory=set)
    failed_files: set[int] = field(default_factory=set)
    paths: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownFile:
    """An archive_files row as the planner reads it: what is known of a file from earlier runs."""

    id: int
    path: str
    provider: str | None
    kind: str
    dev: int | None
    inode: int | None
    size: int
    mtime_ns: int
    parsed_offset: int
    lines_parsed: int
    lines_bad: int
    head_hash: str | None
    tail_hash: str | None
    generation: int
    state: str | None
    status: str


_FILE_COLS = ", ".join(f.name for f in fields(KnownFile))


def _known_files(db: SqliteDatabase) -> list[KnownFile]:
    return [KnownFile(*r) for r in db.execute_sql(f"SELECT {_FILE_COLS} FROM archive_files")]


def build_roots(
    sources: Sequence[str] | None = None, extra_roots: Iterable[str] = (),
) -> list[Root]:
    """``sources`` (directories or files) replace the default roots; ``extra_roots`` add to them."""
    if sources:
        return [Root(Path(s).expanduser(), "auto") for s in sources]
    return default_roots() + [Root(Path(s).expanduser(), "auto") for s in extra_roots]


def run_archive(
    db: SqliteDatabase,
    sources: Sequence[str] | None = None,
    *,
    extra_roots: Iterable[str] = (),
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    tail_idle_seconds: float = DEFAULT_TAIL_IDLE_SECONDS,
    summary_idle_minutes: float = DEFAULT_SUMMARY_IDLE_MINUTES,
    trigger: str = "manual",
    progress: Progress | None = None,
    now: datetime | None = None,
    only_paths: set[str] | None = None,
    files: list[Found] | None = None,
    workers: int | None = None,
) -> RunResult:
    """Archive every transcript under the roots; return (and record) what the run did.

    ``tail_idle_seconds``: a last line without newline is accepted once the file has been idle
    that long and the fragment parses; before that it waits for the next run.
    ``only_paths`` restricts ingestion to those discovered paths and ``files`` replaces
    discovery (both used by session_watch). ``workers``: parse processes (0 parses inline;
    default: :func:`default_workers` when the run reads at least ``PARALLEL_MIN_BYTES``; a
    frozen build parses in one background thread instead).
    """
    t0 = time.perf_counter()
    now = now or utcnow()
    now_s = to_db(now)
    try:
        run_id = runs.start_run(db, now_s, trigger)
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full_error(db.database) from exc
        raise
    run = _RunState(RunResult(run_id=run_id), now_s)
    res = run.result
    opts = _Options(max_line_bytes, tail_idle_seconds, now)
    status = runs.RunStatus.OK
    bulk = False
    try:
        stopped_runs, stale = runs.unsettled(db, run_id)
        run.dirty.update(stale)
        found = files if files is not None else discover(build_roots(sources, extra_roots))
        if only_paths is not None:
            found = [f for f in found if f.path in only_paths]
        res.files_seen = len(found)
        known = _known_files(db)
        tasks = _plan(db, found, known, opts, run)
        if tasks:
            todo = sum(t.end - t.start for t in tasks)
            n = default_workers() if workers is None else workers
            if workers is None and todo < PARALLEL_MIN_BYTES:
                n = 0
            bulk = todo >= PARALLEL_MIN_BYTES
            if bulk:
                db.execute_sql(f"PRAGMA wal_autocheckpoint = {BULK_WAL_AUTOCHECKPOINT}")
            _execute(db, tasks, n, run, progress, len(found), (now, summary_idle_minutes))
        if only_paths is None:
            _mark_missing(db, known, {f.path for f in found}, now_s)
        _finish_sessions(db, run, now_s, stale)
        runs.mark_settled(db, stopped_runs, now_s)
        summary.refresh_summaries(db, now, summary_idle_minutes, rebuilt=run.summarized)
        res.summaries = len(run.summarized)
    except Exception as exc:
        if is_disk_full(exc):
            status = runs.RunStatus.DISK_FULL
            full = exc if isinstance(exc, DiskFull) else disk_full_error(db.database)
            res.disk_full = str(full)
            res.errors.append(res.disk_full)
            res.sessions_new = len(run.new_sessions)
            res.sessions_updated = len(run.updated_sessions - run.new_sessions)
            log.warning("archive run %s stopped: %s", res.run_id, res.disk_full)
        else:
            status = runs.RunStatus.FAILED
            res.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
            log.exception("archive run failed")
    finally:
        if bulk:
            db.execute_sql("PRAGMA wal_autocheckpoint = 1000")
    res.duration_s = round(time.perf_counter() - t0, 4)
    if status == runs.RunStatus.OK and res.files_failed:
        status = runs.RunStatus.PARTIAL
    try:
        db.execute_sql(
            "UPDATE conversation_archive_runs SET finished_at = ?, status = ?, files_seen = ?,"
            " files_parsed = ?, files_skipped = ?, bytes_read = ?, sessions_new = ?,"
            " sessions_updated = ?, bad_lines = ?, duration_s = ?, error = ? WHERE id = ?",
            (to_db(utcnow()), status, res.files_seen, res.files_parsed, res.files_skipped,
             res.bytes_read, res.sessions_new, res.sessions_updated, res.bad_lines,
             res.duration_s, "\n".join(res.errors)[:4000] or None, res.run_id))
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        # Not even this row fits: it stays "running" and the next start marks it interrupted.
        res.disk_full = res.disk_full or str(disk_full_error(db.database))
        if res.disk_full not in res.errors:
            res.errors.append(res.disk_full)
        log.warning("archive run %s: could not record its end: %s", res.run_id, res.disk_full)
    return res


def _describe(exc: BaseException) -> str:
    """``Type: message`` of the error that mattered: a failed ROLLBACK after SQLite had already
    rolled back ("cannot rollback - no transaction is active") names the error before it."""
    while "cannot rollback" in str(exc) and exc.__context__ is not None:
        exc = exc.__context__
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _fail(db: SqliteDatabase, run: _RunState, file_id: int | None, path: str, msg: str) -> None:
    res = run.result
    res.files_failed += 1
    text = f"{path}: {msg}"
    res.errors.append(text)
    log.warning("archive: file failed: %s", text)
    if file_id is not None:
        run.failed_files.add(file_id)
        store.update_file(db, file_id, status="error", error=text)


def _plan(
    db: SqliteDatabase, found: list[Found], known: list[KnownFile], opts: _Options,
    run: _RunState,
) -> list[Task]:
    """Skip unchanged files, settle empty / side / unknown ones, and return a parse task for
    every other file, all in one transaction (a stat per unchanged file, nothing more)."""
    res = run.result
    by_path = {r.path: r for r in known}
    by_inode = {(r.dev, r.inode): r for r in known if r.inode is not None}
    tasks: list[Task] = []
    with db.atomic():
        for f in found:
            row = by_path.get(f.path)
            if row is None:
                moved = by_inode.get((f.dev, f.inode))
                if moved is not None and moved.path not in by_path.keys() - {moved.path} \
                        and not os.path.exists(moved.path):
                    store.update_file(db, moved.id, path=f.path)
                    row = moved
            if (row is not None and row.size == f.size and row.mtime_ns == f.mtime_ns
                    and row.inode == f.inode):
                res.files_skipped += 1
                continue
            try:
                task = _prepare(db, f, row, opts, run)
            except Exception as exc:  # a bad file never aborts the run; a full disk does
                if is_disk_full(exc):
                    raise
                _fail(db, run, row.id if row is not None else None, f.path, _describe(exc))
                continue
            if task is None:
                res.files_parsed += 1
            else:
                tasks.append(task)
    return tasks


def _prepare(
    db: SqliteDatabase, f: Found, row: KnownFile | None, opts: _Options, run: _RunState,
) -> Task | None:
    """The parse task for a new or changed file (None when there is nothing to parse)."""
    now_s = run.now_s
    res = run.result
    if row is None:
        file_id = store.insert_file(db, f.path, f.provider, f.kind, now_s)
        row = KnownFile(file_id, f.path, f.provider, f.kind, None, f.inode, 0, 0, 0, 0, 0, None,
                        None, 0, None, "new")
    file_id = row.id
    run.paths[file_id] = f.path
    scan = FileScan(f.size, f.mtime_ns, f.dev, f.inode, now_s)
    settled = {**msgspec.structs.asdict(scan), "error": None}  # a file with nothing to parse
    if f.kind == WORKFLOW_SIDE:
        store.update_file(db, file_id, **settled, status="side")
        return None
    with open(f.path, "rb") as fh:
        start = int(row.parsed_offset)
        gen = int(row.generation)
        lines_done = int(row.lines_parsed)
        lines_bad = int(row.lines_bad)
        state = orjson.loads(row.state) if row.state else {}
        if start > 0 and (f.inode != row.inode or f.size < start
                          or fingerprint(fh, start) != (row.head_hash, row.tail_hash)):
            # Rewritten, replaced or truncated: parse again from the start. Rows already
            # archived stay (upserts), the old raw chunks stay under their generation.
            start, gen, lines_done, lines_bad, state = 0, gen + 1, 0, 0, {}
            db.execute_sql("DELETE FROM archive_bad_lines WHERE file_id = ?", (file_id,))
            res.files_reparsed += 1
        provider = row.provider if row.provider not in (None, "unknown") else f.provider
        if provider == "unknown" or (f.kind == UNKNOWN and start == 0):
            provider = _sniff(fh) if f.size else "unknown"
    if provider == "unknown" or f.size == 0:
        store.update_file(db, file_id, **settled, provider=provider,
                          status="empty" if f.size == 0 else "unknown")
        return None
    if provider == "codex" and f.kind != CODEX_ROLLOUT and "sid" not in state:
        state["sid"] = codex.session_id_from_name(Path(f.path).stem)
    idle = (opts.now.timestamp() - f.mtime_ns / 1e9) >= opts.tail_idle_seconds
    return Task(file_id=file_id, path=f.path, provider=provider, kind=f.kind,
                session_hint=f.session_hint, agent_id=f.agent_id, project=f.project, state=state,
                start=start, end=f.size, generation=gen, lines_done=lines_done,
                lines_bad=lines_bad, idle=idle, max_line_bytes=opts.max_line_bytes,
                read_meta_json=f.kind == SUBAGENT, scan=scan)


def _execute(
    db: SqliteDatabase, tasks: list[Task], workers: int, run: _RunState,
    progress: Progress | None, total: int, summarize: tuple[datetime, float],
) -> None:
    """Parse every task (inline or in worker processes) and write each job as it comes.

    In a bulk run, a session's counters and summary are built as soon as no task left names
    it (``session_hint``), while the workers go on parsing, instead of all at the end. They are
    recomputed from child rows, so a session touched again later (a file with another hint, a
    summary record naming one of its leaves) is simply recomputed again at the end."""
    res = run.result
    done = res.files_skipped + res.files_parsed + res.files_failed
    waiting = Counter(t.session_hint for t in tasks)
    hint = {t.file_id: t.session_hint for t in tasks}

    def settle(file_id: int) -> None:
        waiting[hint.get(file_id, "")] -= 1
        ready = sorted(s for s in run.dirty if waiting[s] <= 0)
        if not ready:
            return
        for sid in ready:
            store.recompute_session(db, sid, run.now_s)
        run.dirty.difference_update(ready)
        summary.refresh_summaries(db, summarize[0], summarize[1], ready, run.summarized)

    def finished(file_id: int, error: str | None) -> None:
        nonlocal done
        if error is not None:
            _fail(db, run, file_id, run.paths.get(file_id, "?"), error)
        elif file_id not in run.failed_files:
            res.files_parsed += 1
        done += 1
        if progress is not None:
            progress(done, total, res.bytes_read)

    if workers <= 0:
        for task in tasks:
            err = None
            try:
                for job in parse_task(task):
                    _write_job(db, job, run)
            except DiskFull:
                raise
            except Exception as exc:  # a bad file never aborts the run
                err = _describe(exc)
            finished(task.file_id, err)
        return
    # A frozen (PyInstaller) build cannot run ``python -m engine.archive.worker``: it parses in
    # a background thread of this process instead (same messages, same order, same rows).
    pool: WorkerPool | ParseThread = (
        ParseThread() if getattr(sys, "frozen", False) else WorkerPool(min(workers, len(tasks))))
    txn = _Txn(db, run)
    try:
        errors: dict[int, str] = {}
        for msg in pool.run(tasks):
            if isinstance(msg, Job):
                txn.begin()
                _write_job(db, msg, run)
                txn.wrote(msg.nbytes)
            elif isinstance(msg, Failed):
                errors[msg.file_id] = msg.error
            elif isinstance(msg, Done):
                finished(msg.file_id, errors.pop(msg.file_id, None))
                settle(msg.file_id)
        txn.commit()
    except BaseException:
        txn.abort()
        raise
    finally:
        pool.close()


class _Txn:
    """Groups the jobs of a bulk run into transactions of about ``GROUP_BYTES`` of input (each
    job stays atomic in its own savepoint): a commit costs a WAL flush of every page it
    touched, so committing per file made commits the largest cost of a cold ingest.

    :meth:`abort` rolls the open group back (a full disk: SQLite may already have rolled it
    back itself) and rewinds the run's counters to what was committed."""

    def __init__(self, db: SqliteDatabase, run: _RunState) -> None:
        self.db = db
        self.run = run
        self.ctx: Any = None
        self.size = 0
        self.saved: tuple[Any, ...] = ()

    def begin(self) -> None:
        if self.ctx is None:
            self.ctx = self.db.atomic("IMMEDIATE")
            self.ctx.__enter__()
            self.size = 0
            self.saved = _counters(self.run)

    def wrote(self, nbytes: int) -> None:
        self.size += nbytes + 65536
        if self.size >= GROUP_BYTES:
            self.commit()

    def commit(self) -> None:
        if self.ctx is not None:
            ctx, self.ctx = self.ctx, None
            try:
                ctx.__exit__(None, None, None)
            except BaseException:  # peewee rolled the group back: so are the counters
                _restore(self.run, self.saved)
                raise

    def abort(self) -> None:
        if self.ctx is None:
            return
        ctx, self.ctx = self.ctx, None
        try:
            ctx.__exit__(RuntimeError, RuntimeError("archive run aborted"), None)
        except Exception as exc:  # SQLite rolled the transaction back already
            if "cannot rollback" not in str(exc) and "no such savepoint" not in str(exc):
                raise
        _restore(self.run, self.saved)


def _counters(run: _RunState) -> tuple[Any, ...]:
    res = run.result
    return (res.files_parsed, res.files_failed, res.bytes_read, res.bad_lines, list(res.errors),
            *(set(s) for s in (run.touched, run.dirty, run.summarized, run.new_sessions,
                               run.updated_sessions, run.failed_files)))


def _restore(run: _RunState, saved: tuple[Any, ...]) -> None:
    res = run.result
    (res.files_parsed, res.files_failed, res.bytes_read, res.bad_lines, res.errors, run.touched,
     run.dirty, run.summarized, run.new_sessions, run.updated_sessions, run.failed_files) = saved


def _write_job(db: SqliteDatabase, job: Job, run: _RunState) -> None:
    """Write one job in one transaction; a failure rolls it back (the file's offset does not
    advance, so the range is read again next run), is recorded, and drops the file's later
    jobs. A full disk raises :class:`DiskFull` (the run stops there)."""
    if job.file_id in run.failed_files:
        return
    res = run.result
    res.bytes_read += job.nbytes
    res.bad_lines += job.bad
    rows = job.rows
    sessions = {m.session_id for m in rows.sessions}
    touched = set(sessions)
    try:
        with db.atomic("IMMEDIATE"):
            existing = store.existing_sessions(db, touched)
            store.write_job(db, job, run.now_s)
            if rows.cc_summaries:
                leaves = sorted({s.leaf_uuid for s in rows.cc_summaries})
                for i in range(0, len(leaves), 500):
                    part = leaves[i:i + 500]
                    touched.update(r[0] for r in db.execute_sql(
                        "SELECT DISTINCT session_id FROM archive_leaves WHERE uuid IN"
                        f" ({','.join('?' * len(part))})", part).fetchall())
    except Exception as exc:
        if is_disk_full(exc):
            res.bytes_read -= job.nbytes
            res.bad_lines -= job.bad
            raise disk_full_error(db.database) from exc
        run.failed_files.add(job.file_id)
        msg = f"{job.path}: {_describe(exc)}"
        res.errors.append(msg)
        res.files_failed += 1
        log.warning("archive: write failed: %s", msg)
        return
    for sid in touched:
        if sid in existing:
            run.updated_sessions.add(sid)
        elif sid in sessions:
            run.new_sessions.add(sid)
    run.touched.update(touched)
    run.dirty.update(touched)


def _mark_missing(
    db: SqliteDatabase, known: list[KnownFile], seen: set[str], now_s: str,
) -> None:
    """Files archived before but gone from disk keep their archive; only the fact is noted."""
    gone = [r.id for r in known if r.path not in seen and not os.path.exists(r.path)]
    if gone:
        with db.atomic():
            db.cursor().executemany(
                "UPDATE archive_files SET source_missing_since = ? WHERE id = ?"
                " AND source_missing_since IS NULL", [(now_s, i) for i in gone])


def _finish_sessions(db: SqliteDatabase, run: _RunState, now_s: str, stale: set[str]) -> None:
    with db.atomic():
        for sid in sorted(run.dirty):
            store.recompute_session(db, sid, now_s)
        usage_buckets.refresh(db, run.touched | stale)
    run.result.sessions_new = len(run.new_sessions)
    run.result.sessions_updated = len(run.updated_sessions - run.new_sessions)


def _sniff(fh: Any) -> str:
    """'claude', 'codex' or 'unknown' from the first line of a file of unknown shape."""
    fh.seek(0)
    head = fh.readline(65536)
    objs, _ = decode_line(head.strip()) if head.strip() else ([], None)
    obj = objs[0] if objs else None
    if not isinstance(obj, dict):
        return "claude" if head.strip() else "unknown"
    if "payload" in obj or obj.get("type") in ("session_meta", "turn_context", "event_msg",
                                               "response_item"):
        return "codex"
    if "id" in obj and "timestamp" in obj and "type" not in obj and "sessionId" not in obj:
        return "codex"
    return "claude"


# ----------------------------------------------------------------------------- read side


_SESSION_COLS = (
    "session_id", "source", "parent_session_id", "project", "cwd", "git_branch", "cli_version",
    "first_ts", "last_ts", "human_prompts", "api_responses", "tool_calls", "tool_results",
    "tool_errors", "subagents", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_creation_tokens", "output_tokens_final", "title", "status", "interrupted_reason",
    "summary", "summary_json", "archived_at", "updated_at",
)


def _session_dict(row: Sequence[Any]) -> dict[str, Any]:
    d = dict(zip(_SESSION_COLS, row, strict=True))
    d["summary_json"] = orjson.loads(d["summary_json"]) if d.get("summary_json") else None
    d["output_tokens_is_lower_bound"] = not bool(d.pop("output_tokens_final", 1))
    return d


def list_sessions(db: SqliteDatabase, limit: int = 50) -> list[dict[str, Any]]:
    """The most recently active archived sessions (newest first), without summary text."""
    rows = db.execute_sql(
        f"SELECT {', '.join(_SESSION_COLS)} FROM conversation_archive_sessions"
        " WHERE status IS NOT 'no_messages' ORDER BY last_ts DESC, session_id LIMIT ?",
        (limit,)).fetchall()
    out = []
    for r in rows:
        d = _session_dict(r)
        d.pop("summary_json", None)
        d.pop("summary", None)
        out.append(d)
    return out


def child_sessions(db: SqliteDatabase, session_id: str) -> list[dict[str, Any]]:
    """The sessions that ``session_id`` spawned (Codex subagent threads), oldest first, without summary text."""
    rows = db.execute_sql(
        f"SELECT {', '.join(_SESSION_COLS)} FROM conversation_archive_sessions"
        " WHERE parent_session_id = ? ORDER BY first_ts, session_id", (session_id,)).fetchall()
    out = []
    for r in rows:
        d = _session_dict(r)
        d.pop("summary_json", None)
        d.pop("summary", None)
        out.append(d)
    return out


def show_session(db: SqliteDatabase, session_id: str) -> SessionView | None:
    """One session (full id or unique prefix) with summary, turns, tool calls and subagents."""
    rows = db.execute_sql(
        f"SELECT {', '.join(_SESSION_COLS)} FROM conversation_archive_sessions"
        " WHERE session_id = ? OR session_id LIKE ? ESCAPE '\\' ORDER BY session_id = ? DESC"
        " LIMIT 2", (session_id, session_id.replace("%", "\\%").replace("_", "\\_") + "%",
                     session_id)).fetchall()
    if not rows or (len(rows) > 1 and rows[0][0] != session_id):
        return None
    sess = _session_dict(rows[0])
    sid = sess["session_id"]
    turns = summary.build_turns(db, sid)
    tools = [
        ToolCallView(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), r[6], r[7])
        for r in db.execute_sql(
            "SELECT tool_use_id, name, agent_id, called_ts, has_result, is_error, input_preview,"
            " result_preview FROM archive_tool_calls WHERE session_id = ?"
            " ORDER BY coalesce(called_ts, result_ts), tool_use_id", (sid,)).fetchall()
    ]
    subs = [
        dict(zip(("agent_id", "agent_type", "description", "tool_use_id", "is_warmup",
                  "file_path"), r, strict=True))
        for r in db.execute_sql(
            "SELECT s.agent_id, s.agent_type, s.description, s.tool_use_id, s.is_warmup, f.path"
            " FROM archive_subagents s LEFT JOIN archive_files f ON f.id = s.file_id"
            " WHERE s.session_id = ? ORDER BY s.agent_id", (sid,)).fetchall()
    ]
    return SessionView(sess, sess.pop("summary_json"), turns, tools, subs)


def search(db: SqliteDatabase, query: str, limit: int = 20,
           marks: tuple[str, str] = SEARCH_MARKS) -> list[dict[str, Any]]:
    """Full-text search over prompts and answers (see engine.archive.search)."""
    return _search(db, query, limit, marks)


def session_files(db: SqliteDatabase, session_id: str) -> list[str]:
    """Paths of the files that hold records of ``session_id``."""
    return [r[0] for r in db.execute_sql(
        "SELECT f.path FROM archive_file_sessions fs JOIN archive_files f ON f.id = fs.file_id"
        " WHERE fs.session_id = ? ORDER BY f.path", (session_id,)).fetchall()]


