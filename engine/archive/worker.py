"""The worker transport: parse tasks somewhere other than the writing thread, and hand back
their messages in task order.

:class:`WorkerPool` runs ``python -m engine.archive.worker`` subprocesses (big runs: parsing
and compression then use another core while the main process only writes to SQLite). A frozen
one-file build cannot start ``python -m`` workers: :class:`ParseThread` parses in a background
thread of the calling process instead, compressing in another, while the calling thread writes
(measured slower than a worker process: the writer's many short GIL releases around
``sqlite3_step`` each wait for the parsing thread, but it writes exactly the same rows).

Both yield, per task and in task order, its :class:`~engine.archive.parse.Job` messages, maybe
a :class:`Failed`, then :class:`Done`: the writes happen in exactly the order of an inline run,
so the result does not depend on timing. Jobs arrive with their raw chunks compressed.

Over the pipes, tasks and messages are length-prefixed msgpack of the typed records (msgspec:
measured faster to encode than marshal of plain tuples and as fast to decode, with no pickle).
Nothing of the parent (threads, locks, the SQLite connection, the ``__main__`` module) is
inherited or re-imported, and a full pipe makes a worker wait, so memory stays bounded by a
couple of jobs per worker.
"""

from __future__ import annotations

import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
from msgspec import Struct

from engine.archive.codec import compress_chunks
from engine.archive.parse import Compress, Job, Task, parse_task_compressing
from engine.archive.rows import RawChunk

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class Failed(Struct, frozen=True, array_like=True, tag="error"):
    """A task's parse failed (the writer records ``error`` for the file; the run goes on)."""

    file_id: int
    error: str


class Done(Struct, frozen=True, array_like=True, tag="done"):
    """A task's last message."""

    file_id: int


Message = Job | Failed | Done


def _failure(task: Task, exc: Exception) -> Failed:
    return Failed(task.file_id, f"{type(exc).__name__}: {str(exc)[:200]}")


def parse_messages(task: Task, submit: Compress) -> Iterator[Message | Future[Job]]:
    """A task's messages, parsed here: its jobs (a future of each, done once its raw chunks
    are compressed by ``submit``), maybe a :class:`Failed`, then :class:`Done`."""
    try:
        for job, pending in parse_task_compressing(task, submit):
            yield _with_chunks(job, pending)
    except Exception as exc:  # recorded by the writer; the run goes on
        yield _failure(task, exc)
    yield Done(task.file_id)


def _with_chunks(job: Job, pending: list[Future[RawChunk]]) -> Future[Job]:
    """A future of ``job`` with its compressed chunks (done when the last one is)."""
    out: Future[Job] = Future()
    if not pending:
        out.set_result(job)
        return out

    def last_done(_: Future[RawChunk]) -> None:
        try:
            out.set_result(msgspec.structs.replace(job, chunks=[f.result() for f in pending]))
        except BaseException as exc:
            out.set_exception(exc)
        pending.clear()  # the futures refer to this callback: no cycle may keep them alive

    pending[-1].add_done_callback(last_done)  # one thread compresses, in order
    return out


# ----------------------------------------------------------------------------- threads


class _Compressor:
    """One thread that compresses raw chunks as soon as they are complete (zstd releases the
    GIL), so their uncompressed bytes are dropped long before the job is written or sent."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="archive-zstd")

    def submit(self, chunk: RawChunk) -> Future[RawChunk]:
        """Start compressing ``chunk``."""
        return self.pool.submit(_compress_one, chunk)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _compress_one(chunk: RawChunk) -> RawChunk:
    return compress_chunks([chunk])[0]


def _resolved(item: Message | Future[Job]) -> Message:
    return item.result() if isinstance(item, Future) else item


_END = object()


class ParseThread:
    """Parses tasks in a background thread (compressing in another). :meth:`run` yields the
    messages in task order. The queue holds at most ``AHEAD`` messages, which bounds memory
    whatever the file sizes."""

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
                for msg in parse_messages(task, self.compressor.submit):
                    if not self._put(msg):
                        return
        finally:
            self._put(_END)

    def run(self, tasks: list[Task]) -> Iterator[Message]:
        """Parse ``tasks`` in the background, yielding every message in task order."""
        self.thread = threading.Thread(target=self._work, args=(tasks,),
                                       name="archive-parse", daemon=True)
        self.thread.start()
        while True:
            item = self.queue.get()
            if item is _END:
                return
            yield _resolved(item)

    def close(self) -> None:
        """Stop the parse thread (if still running) and the compression thread."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        self.compressor.close()


# ----------------------------------------------------------------------------- processes

_LEN = struct.Struct("<I")
_ENCODER = msgspec.msgpack.Encoder()
_TASKS = msgspec.msgpack.Decoder(Task)
_MESSAGES = msgspec.msgpack.Decoder(Message)


def _send(out: Any, data: bytes) -> None:
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


def _recv(raw: Any) -> bytes | None:
    """The next length-prefixed frame, or None at EOF."""
    head = _read_exact(raw, _LEN.size)
    if head is None:
        return None
    return _read_exact(raw, _LEN.unpack(head)[0])


def worker_main() -> None:
    """A worker process: parse tasks from stdin until EOF, streaming messages to stdout.

    This thread parses (holds the GIL); one thread compresses raw chunks, one encodes and sends
    finished jobs and one receives tasks (all mostly outside the GIL), so parsing never waits
    for zstd or for the pipe while the main process is busy writing."""
    inp: Any = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the message stream
    compressor = _Compressor()
    outbox: queue.Queue[Message | Future[Job] | None] = queue.Queue(2)
    inbox: queue.Queue[bytes | None] = queue.Queue()

    def sender() -> None:
        try:
            while True:
                item = outbox.get()
                if item is None:
                    return
                _send(out, _ENCODER.encode(_resolved(item)))
        except BaseException:  # the main process is gone (broken pipe): nothing left to do
            os._exit(1)

    def reader() -> None:
        # Always drain stdin, so the main process never blocks handing out tasks while this
        # process is blocked sending it results.
        while True:
            frame = _recv(inp)
            inbox.put(frame)
            if frame is None:
                return

    thread = threading.Thread(target=sender, name="archive-send", daemon=True)
    thread.start()
    threading.Thread(target=reader, name="archive-recv", daemon=True).start()
    try:
        while True:
            frame = inbox.get()
            if frame is None:
                return
            for msg in parse_messages(_TASKS.decode(frame), compressor.submit):
                outbox.put(msg)
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
            [sys.executable, "-m", "engine.archive.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, bufsize=0, env=env, cwd=root)
        for pipe in (self.proc.stdin, self.proc.stdout):
            _grow_pipe(pipe)

    def give(self, task: Task) -> None:
        assert self.proc.stdin is not None
        _send(self.proc.stdin, _ENCODER.encode(task))

    def receive(self) -> Message | None:
        """The worker's next message, or None when it is gone."""
        frame = _recv(self.proc.stdout)
        return None if frame is None else _MESSAGES.decode(frame)


class WorkerPool:
    """Parse worker processes. :meth:`run` deals the tasks out in order (each worker holds at
    most ``AHEAD`` of them) and yields the messages of one task at a time, in task order. A
    worker whose output is not being read blocks on its pipe after a couple of jobs, which
    bounds memory whatever the number of tasks it holds; it holds up to ``AHEAD`` (tasks are a
    few hundred bytes: with 2, a worker went idle after every two small files, waiting for the
    writer to finish the first)."""

    AHEAD = 64

    def __init__(self, workers: int) -> None:
        self.workers = [_Worker() for _ in range(max(1, workers))]

    def run(self, tasks: list[Task]) -> Iterator[Message]:
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
                msg = None if w is None or id(w) in dead else w.receive()
                if msg is None:  # the worker died (or none was left): this task fails
                    if w is not None:
                        dead.add(id(w))
                    yield Failed(task.file_id, "parse worker exited unexpectedly")
                    yield Done(task.file_id)
                    break
                yield msg
                if isinstance(msg, Done):
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
    from engine.archive.worker import worker_main as _main

    _main()
