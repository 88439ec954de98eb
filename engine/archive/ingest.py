"""The parse side of an ingest: one byte range of one file in, write jobs out. No database.

:func:`parse_task` reads a :class:`Task` (a file, the offset to start from, the state carried
from the previous run) and yields a :class:`Job` every ``FLUSH_BYTES`` of input and once at
the end: the rows parsed (a :class:`Batch`), the raw bytes of that range already compressed,
and the file's new offset and fingerprint. The caller writes each job in one transaction.

It is pure with respect to the database, so it runs the same in the calling thread (small
runs), in a worker process (:class:`WorkerPool`, big runs: parsing and compression then use
another core while the main process does nothing but SQLite writes) or, in a frozen build
that cannot start ``python -m`` workers, in a background thread (:class:`ParseThread`).
"""

from __future__ import annotations

import marshal
import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
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

# zstd level -1 compresses ~30 % faster than level 1 here (475 vs 365 MB/s on a 2-core VM) for a
# ~10 % bigger archive (4.7x vs 5.1x on Claude-shaped transcripts).
ZSTD_LEVEL = -1

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

try:  # zstandard is ~4x faster than zlib at level 1 and compresses better; zlib is the fallback.
    import zstandard as _zstd

    CODEC = "zstd"
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None  # type: ignore[assignment]
    CODEC = "zlib"
_LOCAL = threading.local()  # a compressor per thread: ZstdCompressor is not thread-safe

FLUSH_BYTES = 8 * 1024 * 1024
# Raw bytes are compressed in pieces of about this size (one archive_raw_chunks row each).
CHUNK_BYTES = 4 * 1024 * 1024
_SNAPSHOT = b'{"type":"file-history-snapshot"'
_PROGRESS = b',"type":"progress",'


def compress(data: bytes) -> tuple[str, bytes]:
    """(codec, compressed bytes) for a raw chunk."""
    if _zstd is not None:
        c = getattr(_LOCAL, "zstd", None)
        if c is None:
            c = _LOCAL.zstd = _zstd.ZstdCompressor(level=ZSTD_LEVEL)
        return CODEC, c.compress(data)
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

    ``chunks`` are ``(generation, start, end, codec, blob)`` (blob maybe a future, see
    :func:`resolve`); ``bad`` and ``nbytes`` are the
    bad lines and bytes this job adds to the run's totals; ``final`` marks the file's last job.
    """

    file_id: int
    path: str
    provider: str
    batch: Batch
    chunks: list[tuple[int, int, int, str, bytes | Future[bytes]]]
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


Submit = Callable[[bytes], "Future[bytes]"]


def parse_task(task: Task, submit: Submit | None = None) -> Iterator[Job]:
    """Parse ``task``'s range, yielding a job every ``FLUSH_BYTES`` and a final one. Raw chunks
    are compressed inline, or handed to ``submit`` (a compression thread) when given."""
    with open(task.path, "rb") as fh:
        yield from _parse(fh, task, submit)


def _parse(fh: Any, task: Task, submit: Submit | None) -> Iterator[Job]:  # noqa: C901 - one hot loop, kept flat
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
    leaves_before: dict[str, str] = dict(task.state.get("leaves") or {})
    raw_parts: list[bytes] = []
    raw_start = task.start
    raw_len = 0
    chunks: list[tuple[int, int, int, str, bytes | Future[bytes]]] = []
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
            if submit is not None:
                chunks.append((gen, raw_start, raw_start + len(data), CODEC, submit(data)))
            else:
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
        nonlocal batch, chunks, pending, any_sessions, bad, nbytes, leaves_before
        seal()
        leaves = ctx.state.get("leaves")
        if leaves or leaves_before:
            leaves = leaves or {}
            batch.leaves_add = [(u, s) for u, s in leaves.items() if u not in leaves_before]
            batch.leaves_del = [u for u in leaves_before if u not in leaves]
            leaves_before = dict(leaves)
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


# ----------------------------------------------------------------------------- threads
#
# zstd compression releases the GIL, so a worker compresses raw chunks in a thread of its own
# (:class:`_Compressor`) while it parses. A frozen one-file build cannot start ``python -m``
# workers: it parses in a background thread of the calling process (:class:`ParseThread`),
# compressing in another, while the calling thread writes. Measured slower than a worker
# process (the writer's many short GIL releases around ``sqlite3_step`` each wait for the
# parsing thread), but it needs no subprocess and writes exactly the same rows.


class _Compressor:
    """One thread that compresses raw chunks; :meth:`submit` returns a future of the blob."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="archive-zstd")

    def submit(self, data: bytes) -> Future[bytes]:
        return self.pool.submit(_compress_blob, data)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _compress_blob(data: bytes) -> bytes:
    return compress(data)[1]


def resolve(blob: bytes | Future[bytes]) -> bytes:
    """A chunk's compressed bytes (waiting for the compression thread if needed)."""
    return blob.result() if isinstance(blob, Future) else blob


_END = object()


class ParseThread:
    """Parses tasks in a background thread. :meth:`run` yields the messages of one task at a
    time, in task order (``("job", Job)``…, maybe ``("error", file_id, text)``, then
    ``("done", file_id)``): the writes happen in exactly the order of an inline run, so the
    result does not depend on timing. The queue holds at most ``AHEAD`` jobs, which bounds
    memory whatever the file sizes."""

    AHEAD = 3

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(self.AHEAD)
        self.stop = threading.Event()
        self.compressor = _Compressor()
        self.thread: threading.Thread | None = None

    def _put(self, msg: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(msg, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _work(self, tasks: list[Task]) -> None:
        try:
            for task in tasks:
                try:
                    for job in parse_task(task, self.compressor.submit):
                        if not self._put(("job", job)):
                            return
                except Exception as exc:  # recorded by the writer; the run goes on
                    if not self._put(("error", task.file_id,
                                      f"{type(exc).__name__}: {str(exc)[:200]}")):
                        return
                if not self._put(("done", task.file_id)):
                    return
        finally:
            self._put(_END)

    def run(self, tasks: list[Task]) -> Iterator[tuple[Any, ...]]:
        """Parse ``tasks`` in the background, yielding every message in task order."""
        self.thread = threading.Thread(target=self._work, args=(tasks,),
                                       name="archive-parse", daemon=True)
        self.thread.start()
        while True:
            msg = self.queue.get()
            if msg is _END:
                return
            yield msg

    def close(self) -> None:
        """Stop the parse thread (if still running) and the compression thread."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        self.compressor.close()


# ----------------------------------------------------------------------------- processes
#
# Workers are plain ``python -m engine.archive.ingest`` subprocesses talking length-prefixed
# marshal dumps of plain tuples over their stdin / stdout (several times cheaper to load than
# pickled dataclasses): nothing of the parent (threads, locks, the SQLite
# connection, the ``__main__`` module) is inherited or re-imported, and a full pipe makes a
# worker wait, so memory stays bounded by a couple of jobs per worker.

_LEN = struct.Struct("<I")


def _task_wire(t: Task) -> tuple[Any, ...]:
    return (t.file_id, t.path, t.provider, t.kind, t.session_hint, t.agent_id, t.project,
            orjson.dumps(t.state), t.start, t.end, t.generation, t.lines_done, t.lines_bad,
            t.idle, t.max_line_bytes, t.read_meta_json, orjson.dumps(t.base))


def _task_unwire(w: tuple[Any, ...]) -> Task:
    v = list(w)
    v[7] = orjson.loads(v[7])
    v[16] = orjson.loads(v[16])
    return Task(*v)


def _job_wire(j: Job) -> tuple[Any, ...]:
    chunks = [(g, s, e, codec, resolve(blob)) for g, s, e, codec, blob in j.chunks]
    return ("job", j.file_id, j.path, j.provider, j.batch.to_wire(), chunks,
            orjson.dumps(j.file_update), j.bad, j.nbytes, j.final)


def _unwire(msg: tuple[Any, ...]) -> tuple[Any, ...]:
    if msg[0] != "job":
        return msg
    _, fid, path, provider, batch, chunks, upd, bad, nbytes, final = msg
    return ("job", Job(fid, path, provider, Batch.from_wire(batch), chunks, orjson.loads(upd),
                       bad, nbytes, final))


def _send(out: Any, obj: Any) -> None:
    data = marshal.dumps(obj)
    out.write(_LEN.pack(len(data)))
    out.write(data)
    out.flush()


def _read_exact(raw: Any, n: int) -> bytes | None:
    parts = []
    while n:
        got = raw.read(n)
        if not got:
            return None
        parts.append(got)
        n -= len(got)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _recv(raw: Any) -> Any:
    head = _read_exact(raw, _LEN.size)
    if head is None:
        return None
    body = _read_exact(raw, _LEN.unpack(head)[0])
    if body is None:
        return None
    return marshal.loads(body)  # our own child process, over a private pipe


def worker_main() -> None:
    """A worker process: parse tasks from stdin until EOF, streaming messages to stdout.

    This thread parses (holds the GIL); one thread compresses raw chunks, one marshals and
    sends finished jobs and one receives tasks (all mostly outside the GIL), so parsing never
    waits for zstd or for the pipe while the main process is busy writing."""
    inp: Any = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the message stream
    compressor = _Compressor()
    outbox: queue.Queue[Any] = queue.Queue(2)

    def sender() -> None:
        try:
            while True:
                msg = outbox.get()
                if msg is None:
                    return
                _send(out, _job_wire(msg[1]) if msg[0] == "job" else msg)
        except BaseException:  # the main process is gone (broken pipe): nothing left to do
            os._exit(1)

    def reader() -> None:
        # Always drain stdin, so the main process never blocks handing out tasks while this
        # process is blocked sending it results.
        while True:
            wire = _recv(inp)
            inbox.put(wire)
            if wire is None:
                return

    inbox: queue.Queue[Any] = queue.Queue()
    thread = threading.Thread(target=sender, name="archive-send", daemon=True)
    thread.start()
    threading.Thread(target=reader, name="archive-recv", daemon=True).start()
    try:
        while True:
            wire = inbox.get()
            if wire is None:
                return
            task = _task_unwire(wire)
            try:
                for job in parse_task(task, compressor.submit):
                    outbox.put(("job", job))
            except Exception as exc:  # reported to the main process, which records it
                outbox.put(("error", task.file_id, f"{type(exc).__name__}: {str(exc)[:200]}"))
            outbox.put(("done", task.file_id))
    finally:
        outbox.put(None)
        thread.join()
        compressor.close()


def _grow_pipe(pipe: Any) -> None:
    """Ask Linux for a 1 MB pipe buffer (default 64 KB): a job is then one or two reads instead
    of dozens of wake-ups of both processes. Best effort: other systems keep the default."""
    setsz = getattr(fcntl, "F_SETPIPE_SZ", 1031) if fcntl is not None else None
    if pipe is None or setsz is None or not sys.platform.startswith("linux"):
        return
    try:
        fcntl.fcntl(pipe.fileno(), setsz, 1 << 20)
    except OSError:
        pass


class _Worker:
    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.archive.ingest"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, bufsize=0, env=env, cwd=root)

        for pipe in (self.proc.stdin, self.proc.stdout):
            _grow_pipe(pipe)

    def give(self, task: Task) -> None:
        assert self.proc.stdin is not None
        _send(self.proc.stdin, _task_wire(task))


class WorkerPool:
    """Parse worker processes. :meth:`run` deals the tasks out in order (each worker holds at
    most ``AHEAD`` of them) and yields the messages of one task at a time, in task order
    (``("job", Job)``…, maybe ``("error", file_id, text)``, then ``("done", file_id)``): the
    writes happen in exactly the order of a single-threaded run, so the result does not depend
    on timing. A worker whose output is not being read blocks on its pipe after a couple of
    jobs, which bounds memory whatever the number of tasks it holds; it holds up to ``AHEAD``
    (tasks are a few hundred bytes: with 2, a worker went idle after every two small files,
    waiting for the writer to finish the first)."""

    AHEAD = 64

    def __init__(self, workers: int) -> None:
        self.workers = [_Worker() for _ in range(max(1, workers))]

    def run(self, tasks: list[Task]) -> Iterator[tuple[Any, ...]]:
        """Parse ``tasks``, yielding every message; a worker that dies fails its tasks."""
        owner: list[_Worker | None] = [None] * len(tasks)
        load = {id(w): 0 for w in self.workers}
        dead: set[int] = set()
        nxt = 0

        def deal() -> None:
            nonlocal nxt
            while nxt < len(tasks):
                free = [w for w in self.workers
                        if id(w) not in dead and load[id(w)] < self.AHEAD]
                if not free:
                    return
                w = min(free, key=lambda x: load[id(x)])
                try:
                    w.give(tasks[nxt])
                except OSError:
                    dead.add(id(w))
                    continue
                owner[nxt] = w
                load[id(w)] += 1
                nxt += 1

        deal()
        for i, task in enumerate(tasks):
            w = owner[i]
            while True:
                msg = None if w is None or id(w) in dead else _recv(w.proc.stdout)
                if msg is None:  # the worker died (or none was left): this task fails
                    if w is not None:
                        dead.add(id(w))
                    yield ("error", task.file_id, "parse worker exited unexpectedly")
                    yield ("done", task.file_id)
                    break
                yield _unwire(msg)
                if msg[0] == "done":
                    break
            if w is not None:
                load[id(w)] -= 1
            deal()

    def close(self) -> None:
        """Close the workers' pipes and reap them. A worker still parsing (the writer stopped
        early, e.g. on a full disk) gets a broken pipe on its next message and exits at once,
        instead of blocking on a pipe nobody reads until the kill timeout."""
        for w in self.workers:
            for pipe in (w.proc.stdin, w.proc.stdout):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
        for w in self.workers:
            try:
                w.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()


if __name__ == "__main__":
    # Import ourselves by name (one copy of the module, not a second one as __main__).
    from engine.archive.ingest import worker_main as _main

    _main()
