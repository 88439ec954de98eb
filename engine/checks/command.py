"""command (user check): run a program; each output line, and a non-zero exit, is a finding.

The program runs without a shell, with no input, in ``cwd`` if set, in its own process group; it
(and every process it started) is killed after ``timeout_seconds``, and at engine shutdown. Each
distinct non-empty stdout line is a finding whose subject is the line (at most 200 characters); a
non-zero exit adds the finding "exit" with the code and the last line the program wrote to stderr.

Output is read bounded: the first ``MAX_OUTPUT_BYTES`` and ``MAX_LINES`` lines of stdout are kept
and the last ``STDERR_TAIL_BYTES`` of stderr; the rest is read, counted and dropped, and reported
as the finding "output truncated".
"""

from __future__ import annotations

import math
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from engine.checks.base import MAX_TIMEOUT_SECONDS, CheckContext, CheckError, CheckKind, Param, timeout_seconds
from engine.checks.children import DEFAULT_REGISTRY, ChildRegistry, ShuttingDown, kill_tree, popen_group_options
from engine.findings import Finding
from engine.vocabulary import Severity

SUBJECT_CHARS = 200
TITLE_CHARS = 500
MAX_LINES = 1000
MAX_OUTPUT_BYTES = 1024 * 1024
STDERR_TAIL_BYTES = 64 * 1024
TRUNCATED_SUBJECT = "output truncated"
_CHUNK = 64 * 1024
_REAP_SECONDS = 2.0


def command_problem(value: Any) -> str | None:
    """Why ``value`` is not a runnable command (the text after "expected"), or None."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return 'a non-empty list of strings, e.g. ["python", "check.py"]'
    if not value[0].strip():
        return "a program name as the first item"
    return None


def bounded_timeout(value: float, maximum: float = MAX_TIMEOUT_SECONDS) -> float:
    """``value`` as a usable wait: NaN, infinite or over ``maximum`` become ``maximum`` (pure)."""
    if math.isnan(value) or value > maximum:
        return maximum
    return max(value, 0.0)


class HeadBuffer:
    """Keeps the first ``max_bytes`` and ``max_lines`` lines written to it; counts what it drops."""

    def __init__(self, max_bytes: int = MAX_OUTPUT_BYTES, max_lines: int = MAX_LINES):
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self._kept = bytearray()
        self._lines = 0
        self.full = False
        self.dropped_bytes = 0
        self.dropped_lines = 0
        self._dropped_tail = b""  # the last dropped byte: a final line without newline counts too

    def feed(self, chunk: bytes) -> None:
        """Add ``chunk``: keep what fits, count the rest."""
        if not chunk:
            return
        if not self.full:
            take = chunk[: self.max_bytes - len(self._kept)]
            cut = _after_nth_newline(take, self.max_lines - self._lines)
            if cut is not None:
                take = take[:cut]
            self._kept += take
            self._lines += take.count(b"\n")
            chunk = chunk[len(take):]
            if not chunk:
                return
            self.full = True
        self.dropped_bytes += len(chunk)
        self.dropped_lines += chunk.count(b"\n")
        self._dropped_tail = chunk[-1:]

    @property
    def truncated(self) -> bool:
        return self.dropped_bytes > 0

    def dropped_line_count(self) -> int:
        """Lines dropped, a final line without a newline included."""
        return self.dropped_lines + (1 if self._dropped_tail not in (b"", b"\n") else 0)

    def text(self) -> str:
        return self._kept.decode("utf-8", errors="replace")


class TailBuffer:
    """Keeps the last ``max_bytes`` written to it."""

    def __init__(self, max_bytes: int = STDERR_TAIL_BYTES):
        self.max_bytes = max_bytes
        self._kept = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._kept += chunk[-self.max_bytes:]
        if len(self._kept) > self.max_bytes:
            del self._kept[: len(self._kept) - self.max_bytes]

    def text(self) -> str:
        return self._kept.decode("utf-8", errors="replace")


def _after_nth_newline(data: bytes, n: int) -> int | None:
    """The index just after the ``n``-th newline in ``data``, or None when it has fewer."""
    if n <= 0:
        return 0
    pos = -1
    for _ in range(n):
        pos = data.find(b"\n", pos + 1)
        if pos < 0:
            return None
    return pos + 1


@dataclass(frozen=True)
class CommandOutput:
    """What one run of a program produced (stdout capped; what was dropped, counted)."""

    returncode: int
    stdout: str
    stderr: str
    dropped_bytes: int = 0
    dropped_lines: int = 0


def _pump(stream: IO[bytes], feed: Callable[[bytes], None]) -> None:
    """Read ``stream`` to its end in chunks into ``feed`` (a reader thread's body)."""
    with stream:
        fd = stream.fileno()  # unbuffered reads: each chunk is counted and dropped at once
        while chunk := os.read(fd, _CHUNK):
            feed(chunk)


def _start_reader(stream: IO[bytes] | None, feed: Callable[[bytes], None], name: str) -> threading.Thread:
    assert stream is not None
    thread = threading.Thread(target=_pump, args=(stream, feed), name=name, daemon=True)
    thread.start()
    return thread


def _join_all(threads: list[threading.Thread], deadline: float) -> bool:
    """Join ``threads`` until ``deadline`` (monotonic); True when all ended."""
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in threads)


def run_command(command: list[str], timeout: float, cwd: str = "",
                children: ChildRegistry | None = None) -> CommandOutput:
    """Run ``command`` with bounded output; CheckError when it cannot run or times out.

    The process (registered in ``children`` while it runs) is killed with its whole tree at the
    timeout, and so are grandchildren that keep the output pipes open after it exited.
    """
    if cwd and not os.path.isdir(cwd):
        raise CheckError(f"cwd is not a folder: {cwd}")
    registry = DEFAULT_REGISTRY if children is None else children
    wait = bounded_timeout(timeout)
    try:
        proc = subprocess.Popen(command, cwd=cwd or None, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **popen_group_options())
    except FileNotFoundError as exc:
        raise CheckError(f"program not found: {command[0]}") from exc
    except PermissionError as exc:
        raise CheckError(f"cannot run {command[0]}: permission denied") from exc
    except OSError as exc:
        raise CheckError(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
    try:
        registry.add(proc)
    except ShuttingDown as exc:
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        raise CheckError(f"{command[0]} not run: {exc}") from None
    out, err = HeadBuffer(), TailBuffer()
    readers = [_start_reader(proc.stdout, out.feed, "check-stdout"), _start_reader(proc.stderr, err.feed,
                                                                                    "check-stderr")]
    deadline = time.monotonic() + wait
    try:
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            _join_all(readers, time.monotonic() + _REAP_SECONDS)
            raise CheckError(f"{command[0]} timed out after {timeout:g} s") from None
        if not _join_all(readers, deadline):
            kill_tree(proc)  # it exited, but what it started still holds the pipes: end those too
            _join_all(readers, time.monotonic() + _REAP_SECONDS)
    finally:
        if proc.returncode is None:
            kill_tree(proc)
            proc.wait()
        registry.discard(proc)
    if registry.closed:
        raise CheckError(f"{command[0]} was stopped: the engine is shutting down")
    return CommandOutput(proc.returncode, out.text(), err.text(), out.dropped_bytes, out.dropped_line_count())


def output_findings(result: CommandOutput, severity: str, program: str = "command") -> list[Finding]:
    """The findings for one run (pure): one per distinct non-empty stdout line (at most
    ``MAX_LINES``), "output truncated" when output was dropped, and "exit" for a non-zero exit."""
    findings: dict[str, Finding] = {}
    for raw in result.stdout.splitlines():
        line = raw.strip()
        if line and len(findings) < MAX_LINES:
            subject = line[:SUBJECT_CHARS]
            findings.setdefault(subject, Finding(subject, severity, line[:TITLE_CHARS]))
    if result.dropped_bytes:
        findings[TRUNCATED_SUBJECT] = Finding(
            TRUNCATED_SUBJECT, severity,
            f"{program} printed more than {MAX_LINES} lines or {MAX_OUTPUT_BYTES // 1024} KiB; the rest was dropped",
            f"output truncated: {result.dropped_bytes} bytes / {result.dropped_lines} lines dropped")
    if result.returncode != 0:
        last = next((line.strip() for line in reversed(result.stderr.splitlines()) if line.strip()), "")
        detail = f"exit code {result.returncode}" + (f"; stderr: {last[:TITLE_CHARS]}" if last else "")
        findings["exit"] = Finding("exit", severity, f"{program} exited with code {result.returncode}", detail)
    return list(findings.values())


class CommandCheck(CheckKind):
    """A user's program; output lines and a non-zero exit are findings."""

    kind = "command"
    description = "A program's output lines, and a non-zero exit, are findings."
    schedule = "every 1h"
    cooldown = "24h"
    severity = Severity.WARNING
    builtin = False
    params = {
        "command": Param(None, 'Program and arguments as a list, e.g. ["python", "check.py"] (no shell).',
                         command_problem),
        "timeout_seconds": Param(30.0, "Kill the program after this many seconds.", timeout_seconds),
        "cwd": Param("", "Folder to run in; empty for the current one."),
    }

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """Run the command once and turn its output into findings."""
        command = ctx.params.get("command")
        problem = command_problem(command)
        if problem:
            raise CheckError(f"command not runnable: expected {problem}")
        assert isinstance(command, list)
        timeout = float(ctx.params.get("timeout_seconds", 30.0))
        cwd = os.path.expanduser(str(ctx.params.get("cwd") or ""))
        result = run_command(command, timeout, cwd, ctx.children)
        program = os.path.basename(command[0]) or command[0]
        return output_findings(result, self.severity, program)
