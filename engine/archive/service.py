"""The archive's entry points, as plain functions: used by the CLI, the nightly job, the
session watcher and (later) the HTTP API.

``run_archive`` discovers files, ingests each one incrementally (one stat for an unchanged
file; appended bytes only for a grown one; a full reparse for a rewritten or truncated one),
recomputes the counters of touched sessions, refreshes idle sessions' summaries and records
the run in ``conversation_archive_runs``. A failing file is recorded and never aborts the run.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from peewee import SqliteDatabase

from engine.archive import claude, codex, store, summary
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
from engine.archive.model import Batch, FileContext, SessionView, ToolCallView
from engine.archive.reader import (
    DEFAULT_MAX_LINE_BYTES,
    Block,
    Oversize,
    Tail,
    decode_line,
    fingerprint,
    iter_blocks,
    line_sha256,
)
from engine.archive.search import search as _search
from engine.timeutil import to_db, utcnow

log = logging.getLogger(__name__)

FLUSH_BYTES = 8 * 1024 * 1024
DEFAULT_TAIL_IDLE_SECONDS = 6 * 3600
DEFAULT_SUMMARY_IDLE_MINUTES = 30
_SNAPSHOT = b'{"type":"file-history-snapshot"'
_PROGRESS = b',"type":"progress",'

Progress = Callable[[int, int, int], None]  # (files done, files total, bytes read)


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

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class _Options:
    max_line_bytes: int
    tail_idle_seconds: float
    now: datetime


@dataclass
class _Job:
    file_id: int
    path: str
    provider: str
    batch: Batch
    chunks: list[tuple[int, int, int, bytes]]
    file_update: dict[str, Any]


class _Writer:
    """One background thread that compresses raw chunks and writes batches, in order.

    Parsing (main thread) and writing (sqlite3 and zstd release the GIL) overlap on two cores.
    The queue is short, so memory stays bounded. A failed write rolls back that batch (the
    file's offset does not advance, so the range is read again next run) and is recorded.
    """

    def __init__(self, db: SqliteDatabase, run: _RunState, now_s: str) -> None:
        self.db = db
        self.run = run
        self.now_s = now_s
        self.failed_files: set[int] = set()
        self.queue: queue.Queue[_Job | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._loop, name="archive-writer", daemon=True)
        self.thread.start()

    def submit(self, job: _Job) -> None:
        """Queue a batch (blocks while the writer is two batches behind)."""
        if job.file_id not in self.failed_files:
            self.queue.put(job)

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        self.queue.put(None)
        self.thread.join()

    def _loop(self) -> None:
        try:
            while True:
                job = self.queue.get()
                if job is None:
                    return
                try:
                    self._write(job)
                except Exception as exc:
                    self.failed_files.add(job.file_id)
                    msg = f"{job.path}: {type(exc).__name__}: {str(exc)[:200]}"
                    self.run.result.errors.append(msg)
                    self.run.result.files_failed += 1
                    log.warning("archive: write failed: %s", msg)
        finally:
            self.db.close()  # this thread's own connection

    def _write(self, job: _Job) -> None:
        db, run, batch = self.db, self.run, job.batch
        touched = set(batch.session_meta)
        with db.atomic("IMMEDIATE"):  # read-then-write while the main thread also writes
            existing = store.existing_sessions(db, touched)
            store.write_batch(db, job.file_id, job.provider, batch, job.chunks,
                              job.file_update, self.now_s)
            if batch.cc_summaries:
                leaves = sorted({leaf for leaf, _, _ in batch.cc_summaries})
                for i in range(0, len(leaves), 500):
                    part = ["c:" + x for x in leaves[i:i + 500]]
                    touched.update(r[0] for r in db.execute_sql(
                        "SELECT DISTINCT session_id FROM archive_entries WHERE entry_key IN"
                        f" ({','.join('?' * len(part))})", part).fetchall())
        for sid in touched:
            if sid in existing:
                run.updated_sessions.add(sid)
            elif sid in batch.session_meta:
                run.new_sessions.add(sid)
        run.touched.update(touched)


@dataclass
class _RunState:
    result: RunResult
    touched: set[str] = field(default_factory=set)
    new_sessions: set[str] = field(default_factory=set)
    updated_sessions: set[str] = field(default_factory=set)
    writer: Any = None


_FILE_COLS = (
    "id", "path", "provider", "kind", "dev", "inode", "size", "mtime_ns", "parsed_offset",
    "lines_parsed", "lines_bad", "head_hash", "tail_hash", "generation", "state", "status",
)


def _known_files(db: SqliteDatabase) -> list[dict[str, Any]]:
    rows = db.execute_sql(f"SELECT {', '.join(_FILE_COLS)} FROM archive_files").fetchall()
    return [dict(zip(_FILE_COLS, r, strict=True)) for r in rows]


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
) -> RunResult:
    """Archive every transcript under the roots; return (and record) what the run did.

    ``tail_idle_seconds``: a last line without newline is accepted once the file has been idle
    that long and the fragment parses; before that it waits for the next run.
    ``only_paths`` restricts ingestion to those discovered paths and ``files`` replaces
    discovery (both used by session_watch).
    """
    t0 = time.perf_counter()
    now = now or utcnow()
    now_s = to_db(now)
    cur = db.execute_sql(
        "INSERT INTO conversation_archive_runs (started_at, status, trigger) VALUES (?, ?, ?)",
        (now_s, "running", trigger))
    run = _RunState(RunResult(run_id=int(cur.lastrowid)))
    res = run.result
    opts = _Options(max_line_bytes, tail_idle_seconds, now)
    status = "ok"
    run.writer = _Writer(db, run, now_s)
    try:
        found = files if files is not None else discover(build_roots(sources, extra_roots))
        if only_paths is not None:
            found = [f for f in found if f.path in only_paths]
        res.files_seen = len(found)
        known = _known_files(db)
        by_path = {r["path"]: r for r in known}
        by_inode = {(r["dev"], r["inode"]): r for r in known if r["inode"] is not None}
        seen_paths: set[str] = set()
        for i, f in enumerate(found):
            seen_paths.add(f.path)
            row = by_path.get(f.path)
            if row is None:
                moved = by_inode.get((f.dev, f.inode))
                if moved is not None and moved["path"] not in by_path.keys() - {moved["path"]} \
                        and not os.path.exists(moved["path"]):
                    store.update_file(db, moved["id"], {"path": f.path})
                    row = moved
            if (row is not None and row["size"] == f.size and row["mtime_ns"] == f.mtime_ns
                    and row["inode"] == f.inode):
                res.files_skipped += 1
            else:
                try:
                    _ingest_file(db, f, row, opts, run)
                    res.files_parsed += 1
                except Exception as exc:  # a bad file never aborts the run
                    res.files_failed += 1
                    msg = f"{f.path}: {type(exc).__name__}: {str(exc)[:200]}"
                    res.errors.append(msg)
                    log.warning("archive: file failed: %s", msg)
                    if row is not None:
                        store.update_file(db, row["id"], {"status": "error", "error": msg})
            if progress is not None:
                progress(i + 1, len(found), res.bytes_read)
        run.writer.close()
        if only_paths is None:
            _mark_missing(db, known, seen_paths, now_s)
        _finish_sessions(db, run, now_s)
        res.summaries = summary.refresh_summaries(db, now, summary_idle_minutes)
    except Exception as exc:
        status = "failed"
        res.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
        log.exception("archive run failed")
    finally:
        if run.writer.thread.is_alive():
            run.writer.close()
    res.duration_s = round(time.perf_counter() - t0, 4)
    db.execute_sql(
        "UPDATE conversation_archive_runs SET finished_at = ?, status = ?, files_seen = ?,"
        " files_parsed = ?, files_skipped = ?, bytes_read = ?, sessions_new = ?,"
        " sessions_updated = ?, bad_lines = ?, duration_s = ?, error = ? WHERE id = ?",
        (to_db(utcnow()), status if not res.files_failed or status == "failed" else "partial",
         res.files_seen, res.files_parsed, res.files_skipped, res.bytes_read, res.sessions_new,
         res.sessions_updated, res.bad_lines, res.duration_s,
         "\n".join(res.errors)[:4000] or None, res.run_id))
    return res


def _mark_missing(
    db: SqliteDatabase, known: list[dict[str, Any]], seen: set[str], now_s: str,
) -> None:
    """Files archived before but gone from disk keep their archive; only the fact is noted."""
    gone = [r["id"] for r in known if r["path"] not in seen and not os.path.exists(r["path"])]
    if gone:
        with db.atomic():
            db.cursor().executemany(
                "UPDATE archive_files SET source_missing_since = ? WHERE id = ?"
                " AND source_missing_since IS NULL", [(now_s, i) for i in gone])


def _finish_sessions(db: SqliteDatabase, run: _RunState, now_s: str) -> None:
    with db.atomic():
        for sid in sorted(run.touched):
            store.recompute_session(db, sid, now_s)
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


def _read_meta_json(path: str) -> dict[str, Any]:
    side = path[:-len(".jsonl")] + ".meta.json"
    try:
        if os.path.getsize(side) > 65536:
            return {}
        with open(side, "rb") as fh:
            obj = orjson.loads(fh.read())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _ingest_file(
    db: SqliteDatabase, f: Found, row: dict[str, Any] | None, opts: _Options, run: _RunState,
) -> None:
    now_s = to_db(opts.now)
    res = run.result
    if row is None:
        file_id = store.insert_file(db, f.path, f.provider, f.kind, now_s)
        row = {"id": file_id, "parsed_offset": 0, "lines_parsed": 0, "lines_bad": 0,
               "generation": 0, "state": None, "head_hash": None, "tail_hash": None,
               "inode": f.inode, "provider": f.provider, "status": "new"}
    file_id = row["id"]
    base = {"size": f.size, "mtime_ns": f.mtime_ns, "dev": f.dev, "inode": f.inode,
            "last_scanned": now_s, "error": None}
    if f.kind == WORKFLOW_SIDE:
        store.update_file(db, file_id, {**base, "status": "side"})
        return
    with open(f.path, "rb") as fh:
        start = int(row["parsed_offset"])
        gen = int(row["generation"])
        lines_done = int(row["lines_parsed"])
        lines_bad = int(row["lines_bad"])
        state = orjson.loads(row["state"]) if row["state"] else {}
        if start > 0 and (f.inode != row["inode"] or f.size < start
                          or fingerprint(fh, start) != (row["head_hash"], row["tail_hash"])):
            # Rewritten, replaced or truncated: parse again from the start. Rows already
            # archived stay (upserts), the old raw chunks stay under their generation.
            start, gen, lines_done, lines_bad, state = 0, gen + 1, 0, 0, {}
            db.execute_sql("DELETE FROM archive_bad_lines WHERE file_id = ?", (file_id,))
            res.files_reparsed += 1
        provider = row["provider"] if row["provider"] not in (None, "unknown") else f.provider
        if provider == "unknown" or (f.kind == UNKNOWN and start == 0):
            provider = _sniff(fh) if f.size else "unknown"
        if provider == "unknown" or f.size == 0:
            store.update_file(db, file_id, {**base, "provider": provider,
                                            "status": "empty" if f.size == 0 else "unknown"})
            return
        ctx = FileContext(file_id, f.path, provider, f.kind, f.session_hint, f.agent_id,
                          f.project, state)
        if provider == "codex" and f.kind != CODEX_ROLLOUT and "sid" not in state:
            state["sid"] = codex.session_id_from_name(Path(f.path).stem)
        idle = (opts.now.timestamp() - f.mtime_ns / 1e9) >= opts.tail_idle_seconds
        _parse_range(db, fh, f, ctx, provider, start, gen, lines_done, lines_bad, idle, base,
                     opts, run)


def _parse_range(
    db: SqliteDatabase, fh: Any, f: Found, ctx: FileContext, provider: str, start: int,
    gen: int, lines_done: int, lines_bad: int, idle: bool, base: dict[str, Any],
    opts: _Options, run: _RunState,
) -> None:
    """Parse from ``start`` to the stat'ed size, flushing every FLUSH_BYTES in a transaction."""
    res = run.result
    parse = codex.parse_record if provider == "codex" else claude.parse_record
    is_claude = provider == "claude"
    max_line = opts.max_line_bytes
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    batch = Batch()
    if f.kind == SUBAGENT and f.agent_id:
        meta = _read_meta_json(f.path)
        sub = batch.subagents.setdefault((f.session_hint, f.agent_id), {"file_id": ctx.file_id})
        for src, dst in (("agentType", "agent_type"), ("description", "description")):
            if isinstance(meta.get(src), str):
                sub[dst] = meta[src][:500]
    chunks: list[tuple[int, int, int, bytes]] = []
    offset = start
    line_no = lines_done
    pending = 0
    any_sessions = False

    def handle(raw: bytes, off: int, no: int) -> None:
        nonlocal lines_bad
        try:
            values = [loads(raw)]
            problem = None
        except decode_error:
            if not raw.strip():
                return
            values, problem = decode_line(raw)
        if problem is not None:
            batch.bad_lines.append((off, no, len(raw), problem.kind, problem.error,
                                    1 if problem.recovered else 0, line_sha256(raw)))
            if not problem.recovered:
                lines_bad += 1
                res.bad_lines += 1
        for v in values:
            if type(v) is dict:
                parse(v, off, no, ctx, batch)
            elif problem is None:
                batch.bad_lines.append((off, no, len(raw), "non_object",
                                        f"JSON {type(v).__name__}, not an object", 0,
                                        line_sha256(raw)))
                lines_bad += 1
                res.bad_lines += 1

    def flush(final: bool) -> None:
        nonlocal batch, chunks, pending, any_sessions
        any_sessions = any_sessions or bool(batch.session_meta)
        head, tail = fingerprint(fh, offset) if offset else (None, None)
        upd = {"parsed_offset": offset, "lines_parsed": line_no, "lines_bad": lines_bad,
               "generation": gen, "state": orjson.dumps(ctx.state).decode(),
               "head_hash": head, "tail_hash": tail, "provider": provider}
        if final:
            upd.update(base)
            upd["status"] = "ok" if any_sessions else "no_messages"
        run.writer.submit(_Job(ctx.file_id, f.path, provider, batch, chunks, upd))
        batch = Batch()
        chunks = []
        pending = 0

    for item in _blocks(fh, start, max_line, f.size):
        if isinstance(item, Block):
            data = item.data
            off = item.start
            for raw in data.split(b"\n")[:-1]:
                n = len(raw)
                line_no += 1
                if n > max_line:
                    batch.bad_lines.append((off, line_no, n, "oversize",
                                            f"line longer than {max_line} bytes", 0,
                                            line_sha256(raw)))
                    lines_bad += 1
                    res.bad_lines += 1
                elif raw.startswith(_SNAPSHOT) or (is_claude and _PROGRESS in raw):
                    pass
                elif raw:
                    handle(raw, off, line_no)
                off += n + 1
            chunks.append((gen, item.start, item.start + len(data), data))
            offset = item.start + len(data)
            res.bytes_read += len(data)
            pending += len(data)
        elif isinstance(item, Oversize):
            line_no += 1
            batch.bad_lines.append((item.start, line_no, item.length, "oversize",
                                    f"line longer than {max_line} bytes (not kept)", 0,
                                    item.sha256))
            lines_bad += 1
            res.bad_lines += 1
            if not item.terminated:
                line_no -= 1  # still being written: retried next run
                break
            offset = item.start + item.length
            res.bytes_read += item.length
        elif isinstance(item, Tail) and idle:
            try:
                loads(item.data)
                complete = True
            except decode_error:
                complete = False
            line_no += 1
            if complete:
                handle(item.data, item.start, line_no)
                chunks.append((gen, item.start, item.start + len(item.data), item.data))
                offset = item.start + len(item.data)
                res.bytes_read += len(item.data)
            else:
                batch.bad_lines.append((item.start, line_no, len(item.data), "partial_tail",
                                        "last line has no newline and does not parse", 0,
                                        line_sha256(item.data)))
                res.bad_lines += 1
                line_no -= 1  # not consumed: retried next run
        if pending >= FLUSH_BYTES:
            flush(False)
    flush(True)


def _blocks(fh: Any, start: int, max_line: int, end: int) -> Iterable[Block | Oversize | Tail]:
    return iter_blocks(fh, start, max_line, end=end)


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


def search(db: SqliteDatabase, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Full-text search over prompts and answers (see engine.archive.search)."""
    return _search(db, query, limit)


def session_files(db: SqliteDatabase, session_id: str) -> list[str]:
    """Paths of the files that hold records of ``session_id``."""
    return [r[0] for r in db.execute_sql(
        "SELECT f.path FROM archive_file_sessions fs JOIN archive_files f ON f.id = fs.file_id"
        " WHERE fs.session_id = ? ORDER BY f.path", (session_id,)).fetchall()]


def recent_cutoff(now: datetime, minutes: float) -> datetime:
    """``now`` minus ``minutes`` (helper shared with session_watch)."""
    return now - timedelta(minutes=minutes)
