"""command: real programs (the test interpreter) turned into findings; timeouts and failures."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import psutil
import pytest

from engine.checks.base import CheckContext, CheckError
from engine.checks.command import (
    MAX_LINES,
    MAX_OUTPUT_BYTES,
    SUBJECT_CHARS,
    TRUNCATED_SUBJECT,
    CommandCheck,
    CommandOutput,
    HeadBuffer,
    TailBuffer,
    bounded_timeout,
    command_problem,
    output_findings,
    run_command,
)
from tests.helpers import ROOT


def _run(code: str, timeout: float = 30.0, cwd: str = "") -> list:
    params = {"command": [sys.executable, "-c", code], "timeout_seconds": timeout, "cwd": cwd}
    ctx = CheckContext(db=None, now=datetime.now(UTC), params=params, name="backup_fresh")
    return CommandCheck().evaluate(ctx)


def test_silent_successful_command_has_no_findings():
    assert _run("pass") == []


def test_each_non_empty_output_line_is_a_finding():
    findings = _run("print('backup is 3 days old'); print(); print('  disk D: missing  ')")
    assert [(f.subject, f.title) for f in findings] == [
        ("backup is 3 days old", "backup is 3 days old"), ("disk D: missing", "disk D: missing")]
    assert all(f.severity == "warning" for f in findings)


def test_repeated_lines_give_one_finding():
    assert len(_run("print('same'); print('same')")) == 1


def test_long_line_subject_is_trimmed_to_200_characters():
    (finding,) = _run("print('x' * 300)")
    assert len(finding.subject) == SUBJECT_CHARS
    assert len(finding.title) == 300


def test_non_zero_exit_adds_an_exit_finding_with_code_and_last_stderr_line():
    findings = _run("import sys; print('partial'); sys.stderr.write('first\\nlast words\\n\\n'); sys.exit(3)")
    by_subject = {f.subject: f for f in findings}
    assert set(by_subject) == {"partial", "exit"}
    exit_finding = by_subject["exit"]
    assert "exited with code 3" in exit_finding.title
    assert exit_finding.detail == "exit code 3; stderr: last words"


def test_timeout_kills_the_program_and_is_a_check_error():
    with pytest.raises(CheckError, match=r"timed out after 0\.5 s"):
        _run("import time; time.sleep(60)", timeout=0.5)


def test_timeout_also_kills_children_holding_the_output_open(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    code = ("import pathlib, subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid)); time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(CheckError, match="timed out"):
        _run(code, timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"took {elapsed:.1f} s: the output pipes were not released at once"
    assert _ends(int(pid_file.read_text()), within=5)


def _ends(pid: int, within: float) -> bool:
    """True when process ``pid`` is gone (or an unreaped zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    try:
        proc = psutil.Process(pid)
        while proc.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                return False
            try:
                proc.wait(timeout=0.05)
            except psutil.TimeoutExpired:
                continue
    except psutil.NoSuchProcess:
        pass
    return True


def test_missing_program_is_named():
    ctx = CheckContext(db=None, now=datetime.now(UTC), name="x",
                       params={"command": ["no-such-program-wk", "--flag"], "timeout_seconds": 5.0,
                               "cwd": ""})
    with pytest.raises(CheckError, match="program not found: no-such-program-wk"):
        CommandCheck().evaluate(ctx)


def test_runs_in_the_configured_folder(tmp_path):
    (finding,) = _run("import os; print(os.getcwd())", cwd=str(tmp_path))
    assert finding.subject == str(tmp_path)


def test_missing_folder_is_a_check_error(tmp_path):
    with pytest.raises(CheckError, match="cwd is not a folder"):
        _run("pass", cwd=str(tmp_path / "gone"))


def test_exit_without_stderr_has_only_the_code():
    (finding,) = output_findings(CommandOutput(1, "", ""), "warning", "check.py")
    assert (finding.subject, finding.title, finding.detail) == ("exit", "check.py exited with code 1",
                                                                "exit code 1")


@pytest.mark.parametrize("value", [[], "python check.py", ["python", 3], [""], None])
def test_bad_commands_are_rejected(value):
    assert command_problem(value) is not None


def test_good_command_passes_validation():
    assert CommandCheck.validate_params({"command": ["python", "check.py"], "timeout_seconds": 5}) == []


# -- bounded output ------------------------------------------------------------------------------

_MEASURE = """
import json, sys, tracemalloc
from datetime import UTC, datetime
from engine.checks.base import CheckContext
from engine.checks.command import CommandCheck
code = "import sys\\nline = b'x' * 99 + b'\\\\n'\\nfor _ in range(900_000): sys.stdout.buffer.write(line)"
ctx = CheckContext(db=None, now=datetime.now(UTC), name="noisy",
                   params={"command": [sys.executable, "-c", code], "timeout_seconds": 300.0, "cwd": ""})
tracemalloc.start()
findings = CommandCheck().evaluate(ctx)
peak = tracemalloc.get_traced_memory()[1]
truncated = [f.detail for f in findings if f.subject == "output truncated"]
print(json.dumps({"findings": len(findings), "truncated": truncated, "peak_bytes": peak}))
"""


def test_ninety_megabytes_of_output_complete_with_capped_findings_and_bounded_memory():
    """90 MB on stdout: the check completes, keeps MAX_LINES findings plus one saying what was
    dropped, and the measuring process's allocations stay far below the output's size (a memory
    bound, not a timing one; tracemalloc, because ru_maxrss inherits the parent's peak)."""
    import json
    import os
    import subprocess

    result = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True, timeout=600,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["findings"] == 1 + 1  # every line is the same subject, plus "output truncated"
    (detail,) = data["truncated"]
    kept_lines = min(MAX_LINES, MAX_OUTPUT_BYTES // 100)
    assert detail == f"output truncated: {(900_000 - kept_lines) * 100} bytes / {900_000 - kept_lines} lines dropped"
    assert data["peak_bytes"] < 100 * 1024 * 1024, f"{data['peak_bytes'] / 2**20:.0f} MiB for 90 MB of output"


def test_many_distinct_lines_are_capped_at_max_lines_and_the_truncation_is_a_finding():
    findings = _run(f"for i in range({MAX_LINES + 250}): print('stale file', i)")
    subjects = [f.subject for f in findings]
    assert len(subjects) == MAX_LINES + 1
    assert subjects[0] == "stale file 0" and subjects[MAX_LINES - 1] == f"stale file {MAX_LINES - 1}"
    truncated = findings[-1]
    assert truncated.subject == TRUNCATED_SUBJECT
    assert truncated.detail.endswith("/ 250 lines dropped")


def test_head_buffer_keeps_the_first_lines_and_counts_the_rest():
    buffer = HeadBuffer(max_bytes=1000, max_lines=2)
    for chunk in (b"one\ntw", b"o\nthree\nfour", b""):
        buffer.feed(chunk)
    assert buffer.text() == "one\ntwo\n"
    assert (buffer.dropped_bytes, buffer.dropped_line_count()) == (len(b"three\nfour"), 2)


def test_head_buffer_keeps_the_first_bytes_and_counts_the_rest():
    buffer = HeadBuffer(max_bytes=5, max_lines=100)
    buffer.feed(b"abcdefgh\n")
    buffer.feed(b"ij\n")
    assert buffer.text() == "abcde"
    assert (buffer.dropped_bytes, buffer.dropped_line_count()) == (7, 2)
    assert buffer.full and buffer.truncated


def test_tail_buffer_keeps_the_last_bytes():
    buffer = TailBuffer(max_bytes=4)
    for chunk in (b"first\n", b"la", b"st"):
        buffer.feed(chunk)
    assert buffer.text() == "\nlast"[-4:]


@pytest.mark.parametrize(("value", "expected"), [(float("inf"), 86400.0), (float("nan"), 86400.0), (1e12, 86400.0),
                                                 (-3.0, 0.0), (2.5, 2.5)])
def test_bounded_timeout_turns_unusable_values_into_a_day_at_most(value, expected):
    assert bounded_timeout(value, maximum=86400.0) == expected


def test_an_infinite_timeout_still_runs_and_reaps_the_program():
    result = run_command([sys.executable, "-c", "print('ok')"], float("inf"))
    assert (result.returncode, result.stdout.strip()) == (0, "ok")


def test_grandchild_holding_the_pipes_after_a_normal_exit_is_killed_at_the_timeout(tmp_path):
    """The program exits at once but leaves a background process holding its stdout: the check
    returns at the timeout with what was printed, and the background process is ended."""
    pid_file = tmp_path / "grandchild.pid"
    code = ("import pathlib, subprocess, sys; print('started', flush=True); "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
            f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))")
    result = run_command([sys.executable, "-c", code], 1.0)
    assert (result.returncode, result.stdout.strip()) == (0, "started")
    assert _ends(int(pid_file.read_text()), within=10)


def test_a_closed_registry_refuses_to_leave_a_new_program_running(tmp_path):
    from engine.checks.children import ChildRegistry

    registry = ChildRegistry()
    registry.close()
    pid_file = tmp_path / "late.pid"
    code = f"import os, pathlib, time; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); time.sleep(600)"
    with pytest.raises(CheckError, match="shutting down"):
        run_command([sys.executable, "-c", code], 30.0, children=registry)
    assert registry.live_pids() == []
