"""The parse side of an ingest: one byte range of one file in, write jobs out. No database.

:func:`parse_task` reads a :class:`Task` (a file, the offset to start from, the state carried
from the previous run) and yields a :class:`Job` every ``FLUSH_BYTES`` of input and once at
the end: the rows parsed (:class:`~engine.archive.rows.Rows`), the raw bytes of that range as
:data:`~engine.archive.codec.PLAIN` chunks (compressed later, see codec.py), and the file's new
offset and fingerprint. The caller writes each job in one transaction.

It is pure with respect to the database, so it runs the same in the calling thread (small
runs) or behind the worker transport (worker.py: a worker process, or a background thread in a
frozen build).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, BinaryIO

import orjson
from msgspec import Struct

from engine.archive import claude, codex
from engine.archive.codec import CHUNK_BYTES, PLAIN
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
from engine.archive.rows import FileProgress, FileScan, Leaf, RawChunk, Rows

FLUSH_BYTES = 8 * 1024 * 1024
_SNAPSHOT = b'{"type":"file-history-snapshot"'
_PROGRESS = b',"type":"progress",'


class Task(Struct, frozen=True, array_like=True):
    """One file range to parse: everything the parser needs, nothing from the database."""

    file_id: int
    path: str
    provider: str
    kind: str
    session_hint: str
    agent_id: str
    project: str | None
    state: dict[str, Any]  # the parser state carried from the previous run
    start: int
    end: int
    generation: int
    lines_done: int
    lines_bad: int
    idle: bool  # the file has been idle long enough to accept a last line without newline
    max_line_bytes: int
    read_meta_json: bool  # a subagent file: read its .meta.json sidecar
    scan: FileScan | None = None  # recorded with the last job


class Job(Struct, frozen=True, array_like=True, tag="job"):
    """One parsed range, ready to write: rows, raw chunks, the file's new state.

    ``bad`` and ``nbytes`` are the bad lines and bytes this job adds to the run's totals;
    ``final`` marks the file's last job, which also carries the task's ``scan`` and the file's
    ``status``."""

    file_id: int
    path: str
    provider: str
    rows: Rows
    chunks: list[RawChunk]
    progress: FileProgress
    bad: int
    nbytes: int
    final: bool
    scan: FileScan | None = None
    status: str | None = None


def read_meta_json(path: str) -> dict[str, Any]:
    """A subagent transcript's ``.meta.json`` sidecar (agent type, description), or {}."""
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
    """Parse ``task``'s range, yielding a job every ``FLUSH_BYTES`` and a final one (raw
    chunks :data:`~engine.archive.codec.PLAIN`)."""
    with open(task.path, "rb") as fh:
        for job, _ in _Parser(fh, task, None).run():
            yield job


Compress = Callable[[RawChunk], "Future[RawChunk]"]


def parse_task_compressing(task: Task, submit: Compress) -> Iterator[tuple[Job, list[Future[RawChunk]]]]:
    """Like :func:`parse_task`, but every raw chunk goes to ``submit`` (a compression thread)
    as soon as it is complete, so its uncompressed bytes are not held until the job is done:
    yields each job without chunks, with the futures of its compressed chunks."""
    with open(task.path, "rb") as fh:
        yield from _Parser(fh, task, submit).run()


class _RawChunks:
    """Gathers the raw bytes kept for a file into chunks of about ``CHUNK_BYTES``, each one a
    contiguous run of complete lines (a skipped oversize line ends a run)."""

    def __init__(self, file_id: int, generation: int, start: int, submit: Compress | None) -> None:
        self.file_id = file_id
        self.generation = generation
        self.submit = submit
        self.parts: list[bytes] = []
        self.start = start
        self.length = 0
        self.done: list[RawChunk] = []
        self.pending: list[Future[RawChunk]] = []

    def keep(self, start: int, data: bytes) -> None:
        """Keep the lines ``data`` read at ``start``."""
        if not self.parts:
            self.start = start
        self.parts.append(data)
        self.length += len(data)
        if self.length >= CHUNK_BYTES:
            self.seal()

    def seal(self) -> None:
        """Close the current chunk (the next :meth:`keep` starts a new one)."""
        if self.parts:
            data = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
            chunk = RawChunk(self.file_id, self.generation, self.start, self.start + len(data),
                             PLAIN, data)
            if self.submit is not None:
                self.pending.append(self.submit(chunk))
            else:
                self.done.append(chunk)
        self.parts = []
        self.length = 0

    def take(self) -> tuple[list[RawChunk], list[Future[RawChunk]]]:
        """Seal, and hand over the chunks sealed so far (or their compressions)."""
        self.seal()
        done, self.done = self.done, []
        pending, self.pending = self.pending, []
        return done, pending


class _Parser:
    """The state of one task's parse: the open batch, the raw chunks, the line counters."""

    def __init__(self, fh: BinaryIO, task: Task, submit: Compress | None) -> None:
        self.fh = fh
        self.task = task
        self.ctx = FileContext(task.file_id, task.path, task.provider, task.kind,
                               task.session_hint, task.agent_id, task.project, task.state)
        self.parse_record = codex.parse_record if task.provider == "codex" else claude.parse_record
        self.batch = Batch(task.file_id)
        self.raw = _RawChunks(task.file_id, task.generation, task.start, submit)
        self.offset = task.start
        self.line_no = task.lines_done
        self.lines_bad = task.lines_bad
        self.bad = 0  # bad lines of the open job
        self.nbytes = 0  # bytes of the open job (oversize lines included)
        self.pending = 0  # bytes of lines the open job holds (what FLUSH_BYTES bounds)
        self.any_sessions = False
        self.leaves_before: dict[str, str] = dict(task.state.get("leaves") or {})
        if task.read_meta_json and task.agent_id:
            self._subagent_meta()

    def run(self) -> Iterator[tuple[Job, list[Future[RawChunk]]]]:
        """Yield the task's jobs (with the futures of chunks being compressed elsewhere)."""
        task = self.task
        for item in iter_blocks(self.fh, task.start, task.max_line_bytes, end=task.end):
            if isinstance(item, Block):
                self.block(item)
            elif isinstance(item, Oversize):
                if not self.oversize(item):
                    break
            elif isinstance(item, Tail) and task.idle:
                self.tail(item)
            if self.pending >= FLUSH_BYTES:
                yield self.flush(False)
        yield self.flush(True)

    def _subagent_meta(self) -> None:
        meta = read_meta_json(self.task.path)
        sub = self.batch.subagent(self.task.session_hint, self.task.agent_id)
        sub.file_id = self.task.file_id
        if isinstance(meta.get("agentType"), str):
            sub.agent_type = meta["agentType"][:500]
        if isinstance(meta.get("description"), str):
            sub.description = meta["description"][:500]

    def _bad(self, offset: int, length: int, kind: str, error: str, sha256: str) -> None:
        """A line that counts as bad (not recovered)."""
        self.batch.bad_line(offset, self.line_no, length, kind, error, False, sha256)
        self.lines_bad += 1
        self.bad += 1

    def block(self, item: Block) -> None:
        """Complete lines: parse each one (skipping the record types nothing indexes)."""
        max_line = self.task.max_line_bytes
        is_claude = self.task.provider == "claude"
        data = item.data
        off = item.start
        for raw in data.split(b"\n")[:-1]:
            n = len(raw)
            self.line_no += 1
            if n > max_line:
                self._bad(off, n, "oversize", f"line longer than {max_line} bytes",
                          line_sha256(raw))
            elif raw.startswith(_SNAPSHOT) or (is_claude and _PROGRESS in raw):
                pass
            elif raw:
                self.line(raw, off)
            off += n + 1
        self.raw.keep(item.start, data)
        self.offset = item.start + len(data)
        self.nbytes += len(data)
        self.pending += len(data)

    def line(self, raw: bytes, off: int) -> None:
        """Decode one line (repairing what can be repaired) and parse the objects it holds."""
        try:
            values = [orjson.loads(raw)]
            problem = None
        except orjson.JSONDecodeError:
            if not raw.strip():
                return
            values, problem = decode_line(raw)
        if problem is not None:
            self.batch.bad_line(off, self.line_no, len(raw), problem.kind, problem.error,
                                problem.recovered, line_sha256(raw))
            if not problem.recovered:
                self.lines_bad += 1
                self.bad += 1
        for v in values:
            if type(v) is dict:
                self.parse_record(v, off, self.line_no, self.ctx, self.batch)
            elif problem is None:
                self._bad(off, len(raw), "non_object", f"JSON {type(v).__name__}, not an object",
                          line_sha256(raw))

    def oversize(self, item: Oversize) -> bool:
        """A line too long to keep; False when it is still being written (stop here)."""
        self.line_no += 1
        self._bad(item.start, item.length, "oversize",
                  f"line longer than {self.task.max_line_bytes} bytes (not kept)", item.sha256)
        if not item.terminated:
            self.line_no -= 1  # still being written: retried next run
            return False
        # The raw archive keeps a gap here: chunks before and after stay contiguous runs.
        self.offset = item.start + item.length
        self.raw.seal()
        self.nbytes += item.length
        return True

    def tail(self, item: Tail) -> None:
        """A last line without newline in an idle file: taken when it parses, else retried."""
        try:
            orjson.loads(item.data)
            complete = True
        except orjson.JSONDecodeError:
            complete = False
        self.line_no += 1
        if complete:
            self.line(item.data, item.start)
            self.raw.keep(item.start, item.data)
            self.offset = item.start + len(item.data)
            self.nbytes += len(item.data)
        else:
            self.batch.bad_line(item.start, self.line_no, len(item.data), "partial_tail",
                                "last line has no newline and does not parse", False,
                                line_sha256(item.data))
            self.bad += 1
            self.line_no -= 1  # not consumed: retried next run

    def _leaf_changes(self) -> None:
        leaves = self.ctx.state.get("leaves")
        if leaves or self.leaves_before:
            leaves = leaves or {}
            before = self.leaves_before
            fid = self.task.file_id
            self.batch.leaves_add = [Leaf(u, s, fid) for u, s in leaves.items() if u not in before]
            self.batch.leaves_del = [u for u in before if u not in leaves]
            self.leaves_before = dict(leaves)

    def flush(self, final: bool) -> tuple[Job, list[Future[RawChunk]]]:
        """The open job (rows, chunks, the file's new state); a new one opens."""
        task = self.task
        self._leaf_changes()
        batch = self.batch
        self.any_sessions = self.any_sessions or bool(batch.session_meta)
        head, tail = fingerprint(self.fh, self.offset) if self.offset else (None, None)
        progress = FileProgress(self.offset, self.line_no, self.lines_bad, task.generation,
                                orjson.dumps(self.ctx.state).decode(), head, tail, task.provider)
        chunks, pending = self.raw.take()
        job = Job(task.file_id, task.path, task.provider, batch.rows(), chunks, progress,
                  self.bad, self.nbytes, final,
                  scan=task.scan if final else None,
                  status=("ok" if self.any_sessions else "no_messages") if final else None)
        self.batch = Batch(task.file_id)
        self.bad = self.nbytes = self.pending = 0
        return job, pending
