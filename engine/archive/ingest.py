"""The parse side of an ingest: one byte range of one file in, write jobs out. No database.

:func:`parse_task` reads a :class:`Task` (a file, the offset to start from, the state carried
from the previous run) and yields a :class:`Job` every ``FLUSH_BYTES`` of input and once at
the end: the rows parsed (a :class:`Batch`), the raw bytes of that range already compressed,
and the file's new offset and fingerprint. The caller writes each job in one transaction.

It is pure with respect to the database, so it runs the same in the calling thread (small
runs) or in worker processes (:class:`WorkerPool`, big runs): parsing and compression then use
another core while the main process does nothing but SQLite writes. Only this module, the
parsers and the reader are imported by a worker.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.archive import claude, codex
from engine.archive.model import Batch, FileContext
from engine.archive.reader import (
    Block,
    Oversize,
    Tail,
    decode_line,
    fingerprint,
    iter_blocks,
    line_sha256,
)

try:  # zstandard is ~4x faster than zlib at level 1 and compresses better; zlib is the fallback.
    import zstandard as _zstd

    _COMPRESSOR: Any = _zstd.ZstdCompressor(level=1)
    CODEC = "zstd"
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None  # type: ignore[assignment]
    _COMPRESSOR = None
    CODEC = "zlib"

FLUSH_BYTES = 8 * 1024 * 1024
# Raw bytes are compressed in pieces of about this size (one archive_raw_chunks row each).
CHUNK_BYTES = 4 * 1024 * 1024
_SNAPSHOT = b'{"type":"file-history-snapshot"'
_PROGRESS = b',"type":"progress",'


def compress(data: bytes) -> tuple[str, bytes]:
    """(codec, compressed bytes) for a raw chunk."""
    if _COMPRESSOR is not None:
        return CODEC, _COMPRESSOR.compress(data)
    import zlib

    return "zlib", zlib.compress(data, 1)


@dataclass
class Task:
    """One file range to parse: everything the parser needs, nothing from the database."""

    file_id: int
    path: str
    provider: str
    kind: str
    session_hint: str
    agent_id: str
    project: str | None
    state: dict[str, Any]
    start: int
    end: int
    generation: int
    lines_done: int
    lines_bad: int
    idle: bool
    max_line_bytes: int
    read_meta_json: bool
    base: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job:
    """One parsed range, ready to write: rows, compressed raw chunks, the file's new state.

    ``chunks`` are ``(generation, start, end, codec, blob)``; ``bad`` and ``nbytes`` are the
    bad lines and bytes this job adds to the run's totals; ``final`` marks the file's last job.
    """

    file_id: int
    path: str
    provider: str
    batch: Batch
    chunks: list[tuple[int, int, int, str, bytes]]
    file_update: dict[str, Any]
    bad: int
    nbytes: int
    final: bool


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


def parse_task(task: Task) -> Iterator[Job]:
    """Parse ``task``'s range, yielding a job every ``FLUSH_BYTES`` and a final one."""
    with open(task.path, "rb") as fh:
        yield from _parse(fh, task)


def _parse(fh: Any, task: Task) -> Iterator[Job]:  # noqa: C901 - one hot loop, kept flat
    provider = task.provider
    ctx = FileContext(task.file_id, task.path, provider, task.kind, task.session_hint,
                      task.agent_id, task.project, task.state)
    parse = codex.parse_record if provider == "codex" else claude.parse_record
    is_claude = provider == "claude"
    max_line = task.max_line_bytes
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    gen = task.generation
    batch = Batch()
    if task.read_meta_json and task.agent_id:
        meta = _read_meta_json(task.path)
        sub = batch.subagents.setdefault((task.session_hint, task.agent_id),
                                         {"file_id": task.file_id})
        for src, dst in (("agentType", "agent_type"), ("description", "description")):
            if isinstance(meta.get(src), str):
                sub[dst] = meta[src][:500]
    raw_parts: list[bytes] = []
    raw_start = task.start
    raw_len = 0
    chunks: list[tuple[int, int, int, str, bytes]] = []
    offset = task.start
    line_no = task.lines_done
    lines_bad = task.lines_bad
    bad = 0
    nbytes = 0
    pending = 0
    any_sessions = False

    def seal() -> None:
        # Compress the raw bytes gathered so far into one chunk row.
        nonlocal raw_parts, raw_start, raw_len
        if raw_parts:
            data = raw_parts[0] if len(raw_parts) == 1 else b"".join(raw_parts)
            codec, blob = compress(data)
            chunks.append((gen, raw_start, raw_start + len(data), codec, blob))
        raw_parts = []
        raw_start = offset
        raw_len = 0

    def keep(start: int, data: bytes) -> None:
        nonlocal raw_start, raw_len
        if not raw_parts:
            raw_start = start
        raw_parts.append(data)
        raw_len += len(data)
        if raw_len >= CHUNK_BYTES:
            seal()

    def handle(raw: bytes, off: int, no: int) -> None:
        nonlocal lines_bad, bad
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
                bad += 1
        for v in values:
            if type(v) is dict:
                parse(v, off, no, ctx, batch)
            elif problem is None:
                batch.bad_lines.append((off, no, len(raw), "non_object",
                                        f"JSON {type(v).__name__}, not an object", 0,
                                        line_sha256(raw)))
                lines_bad += 1
                bad += 1

    def flush(final: bool) -> Job:
        nonlocal batch, chunks, pending, any_sessions, bad, nbytes
        seal()
        any_sessions = any_sessions or bool(batch.session_meta)
        head, tail = fingerprint(fh, offset) if offset else (None, None)
        upd: dict[str, Any] = {
            "parsed_offset": offset, "lines_parsed": line_no, "lines_bad": lines_bad,
            "generation": gen, "state": orjson.dumps(ctx.state).decode(),
            "head_hash": head, "tail_hash": tail, "provider": provider}
        if final:
            upd.update(task.base)
            upd["status"] = "ok" if any_sessions else "no_messages"
        job = Job(task.file_id, task.path, provider, batch, chunks, upd, bad, nbytes, final)
        batch = Batch()
        chunks = []
        pending = bad = nbytes = 0
        return job

    for item in iter_blocks(fh, task.start, max_line, end=task.end):
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
                    bad += 1
                elif raw.startswith(_SNAPSHOT) or (is_claude and _PROGRESS in raw):
                    pass
                elif raw:
                    handle(raw, off, line_no)
                off += n + 1
            keep(item.start, data)
            offset = item.start + len(data)
            nbytes += len(data)
            pending += len(data)
        elif isinstance(item, Oversize):
            line_no += 1
            batch.bad_lines.append((item.start, line_no, item.length, "oversize",
                                    f"line longer than {max_line} bytes (not kept)", 0,
                                    item.sha256))
            lines_bad += 1
            bad += 1
            if not item.terminated:
                line_no -= 1  # still being written: retried next run
                break
            # The raw archive keeps a gap here: chunks before and after stay contiguous runs.
            seal()
            offset = item.start + item.length
            raw_start = offset
            nbytes += item.length
        elif isinstance(item, Tail) and task.idle:
            try:
                loads(item.data)
                complete = True
            except decode_error:
                complete = False
            line_no += 1
            if complete:
                handle(item.data, item.start, line_no)
                keep(item.start, item.data)
                offset = item.start + len(item.data)
                nbytes += len(item.data)
            else:
                batch.bad_lines.append((item.start, line_no, len(item.data), "partial_tail",
                                        "last line has no newline and does not parse", 0,
                                        line_sha256(item.data)))
                bad += 1
                line_no -= 1  # not consumed: retried next run
        if pending >= FLUSH_BYTES:
            yield flush(False)
    yield flush(True)


# ----------------------------------------------------------------------------- processes


def _worker_main(tasks: Any, results: Any) -> None:
    """A worker process: parse tasks until the ``None`` sentinel, streaming jobs back."""
    while True:
        task = tasks.get()
        if task is None:
            return
        results.put(("start", task.file_id, os.getpid()))
        try:
            for job in parse_task(task):
                results.put(("job", job))
        except Exception as exc:  # reported to the main process, which records it
            results.put(("error", task.file_id, f"{type(exc).__name__}: {str(exc)[:200]}"))
        results.put(("done", task.file_id))


class WorkerPool:
    """Worker processes (spawned, so no inherited locks or connections) fed through a task
    queue; their jobs come back through one bounded queue, so at most ``backlog`` jobs
    (each at most ``FLUSH_BYTES`` of input, compressed) wait in memory."""

    def __init__(self, workers: int, backlog: int = 4) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.tasks: Any = ctx.Queue()
        self.results: Any = ctx.Queue(maxsize=backlog)
        self.procs = [ctx.Process(target=_worker_main, args=(self.tasks, self.results),
                                  name=f"archive-parse-{i}", daemon=True)
                      for i in range(workers)]
        for p in self.procs:
            p.start()

    def submit(self, task: Task) -> None:
        """Queue a task (never blocks)."""
        self.tasks.put(task)

    def results_until_done(self, expected: int) -> Iterator[tuple[Any, ...]]:
        """Yield result messages until ``expected`` tasks reported done. A worker that dies
        makes the tasks it had started report ``("error", …)`` and ``("done", …)``."""
        done = 0
        running: dict[int, set[int]] = {}  # pid -> file ids in progress
        while done < expected:
            try:
                msg = self.results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.procs if not p.is_alive()]
                if not dead:
                    continue
                lost = [fid for p in dead for fid in running.pop(p.pid or -1, set())]
                if not lost and all(not p.is_alive() for p in self.procs):
                    raise RuntimeError("archive workers exited with tasks left") from None
                for fid in lost:
                    yield ("error", fid, "parse worker exited unexpectedly")
                    yield ("done", fid)
                    done += 1
                self.procs = [p for p in self.procs if p.is_alive()]
                continue
            if msg[0] == "start":
                running.setdefault(msg[2], set()).add(msg[1])
                continue
            if msg[0] == "done":
                done += 1
                for fids in running.values():
                    fids.discard(msg[1])
            yield msg

    def close(self) -> None:
        """Stop the workers (after their current task) and reap them."""
        for _ in self.procs:
            self.tasks.put(None)
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join()
        self.tasks.close()
        self.results.close()
