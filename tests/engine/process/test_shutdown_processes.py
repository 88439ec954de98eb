"""`watchkeeper stop` while a user command check runs: the instance, the check's child process and
the lock are all gone when stop returns, and a new instance can start (real processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from engine.process.lifecycle import is_locked, running_instance
from tests.helpers import ROOT, cli, start_instance, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")


def _sleeper_config(paths, pid_file: Path) -> None:
    code = (f"import os, pathlib, time; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); "
            "time.sleep(600)")
    with paths.config_file.open("a") as config:
        config.write("[scheduler]\nshutdown_wait_seconds = 1\n\n"
                     "[[user_checks]]\nname = \"sleeper\"\nkind = \"command\"\nschedule = \"every 1h\"\n"
                     f"command = {json.dumps([sys.executable, '-c', code])}\ntimeout_seconds = 900.0\n")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stop_while_a_command_check_runs_ends_instance_child_and_lock(wk_home, procs, tmp_path):
    pid_file = tmp_path / "child.pid"
    _sleeper_config(wk_home, pid_file)
    instance = start_instance(log=tmp_path / "instance.out")
    procs.append(instance)
    wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=20,
               message="the instance's control channel")
    check = subprocess.Popen([sys.executable, "-m", "engine", "check", "run", "sleeper"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(check)
    child = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=20,
                           message="the check's child pid file"))
    assert not _gone(child)

    result = cli("stop", "--timeout", "20", timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _gone(instance.pid), "stop returned while the instance process still lived"
    assert instance.wait(10) == 0
    assert wait_until(lambda: _gone(child), timeout=10, message="the check's child to end")
    assert not is_locked(wk_home)
    check.wait(30)  # the client is told the instance went away
    second = start_instance()
    procs.append(second)
    # The lock is taken a moment before the pid is written into it: wait for the pid, not the lock.
    wait_until(lambda: getattr(running_instance(wk_home), "pid", None) == second.pid, timeout=20,
               message="a new instance with its pid recorded")
