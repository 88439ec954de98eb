"""command: real programs (the test interpreter) turned into findings; timeouts and failures."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import psutil
import pytest

from engine.checks.base import CheckContext, CheckError
from engine.checks.command import SUBJECT_CHARS, CommandCheck, command_problem, output_findings


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
    (finding,) = output_findings(1, "", "", "warning", "check.py")
    assert (finding.subject, finding.title, finding.detail) == ("exit", "check.py exited with code 1",
                                                                "exit code 1")


@pytest.mark.parametrize("value", [[], "python check.py", ["python", 3], [""], None])
def test_bad_commands_are_rejected(value):
    assert command_problem(value) is not None


def test_good_command_passes_validation():
    assert CommandCheck.validate_params({"command": ["python", "check.py"], "timeout_seconds": 5}) == []
