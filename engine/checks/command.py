"""command (user check): run a program; each output line, and a non-zero exit, is a finding.

The program runs without a shell, with no input, in ``cwd`` if set; it (and any children it
started) is killed after ``timeout_seconds``. Each non-empty stdout line is a finding whose
subject is the line (at most 200 characters); a non-zero exit adds the finding "exit" with the
code and the last line the program wrote to stderr.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

from engine.checks.base import CheckContext, CheckError, CheckKind, Finding, Param, timeout_seconds

SUBJECT_CHARS = 200
TITLE_CHARS = 500
MAX_LINES = 1000
_REAP_SECONDS = 2.0


def command_problem(value: Any) -> str | None:
    """Why ``value`` is not a runnable command (the text after "expected"), or None."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return 'a non-empty list of strings, e.g. ["python", "check.py"]'
    if not value[0].strip():
        return "a program name as the first item"
    return None


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc`` and its descendants (children first seen, so none is re-parented unseen)."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    proc.kill()


def run_command(command: list[str], timeout: float, cwd: str = "") -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``command``; CheckError when it cannot run or times out."""
    if cwd and not os.path.isdir(cwd):
        raise CheckError(f"cwd is not a folder: {cwd}")
    try:
        proc = subprocess.Popen(
            command, cwd=cwd or None, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except FileNotFoundError as exc:
        raise CheckError(f"program not found: {command[0]}") from exc
    except PermissionError as exc:
        raise CheckError(f"cannot run {command[0]}: permission denied") from exc
    except OSError as exc:
        raise CheckError(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        try:
            proc.communicate(timeout=_REAP_SECONDS)
        except subprocess.TimeoutExpired:
            pass  # a grandchild holds the pipes open; give up on the output
        raise CheckError(f"{command[0]} timed out after {timeout:g} s") from None
    return proc.returncode, stdout, stderr


def output_findings(returncode: int, stdout: str, stderr: str, severity: str, program: str = "command"
                    ) -> list[Finding]:
    """The findings for one run (pure): one per distinct non-empty stdout line, plus "exit"."""
    findings: dict[str, Finding] = {}
    for raw in stdout.splitlines():
        line = raw.strip()
        if line:
            subject = line[:SUBJECT_CHARS]
            findings.setdefault(subject, Finding(subject, severity, line[:TITLE_CHARS]))
    if len(findings) > MAX_LINES:
        raise CheckError(f"{program} printed more than {MAX_LINES} lines; each line is an alert")
    if returncode != 0:
        last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
        detail = f"exit code {returncode}" + (f"; stderr: {last[:TITLE_CHARS]}" if last else "")
        findings["exit"] = Finding("exit", severity, f"{program} exited with code {returncode}", detail)
    return list(findings.values())


class CommandCheck(CheckKind):
    """A user's program; output lines and a non-zero exit are findings."""

    kind = "command"
    description = "A program's output lines, and a non-zero exit, are findings."
    schedule = "every 1h"
    cooldown = "24h"
    severity = "warning"
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
        returncode, stdout, stderr = run_command(command, timeout, cwd)
        program = os.path.basename(command[0]) or command[0]
        return output_findings(returncode, stdout, stderr, self.severity, program)
