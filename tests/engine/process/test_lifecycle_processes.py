"""Single instance, crash recovery and graceful shutdown with real processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from engine.process.lifecycle import read_pid_file, running_instance
from tests.helpers import ROOT, cli, start_instance, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _db_rows(paths, sql: str) -> list[tuple]:
    if not paths.db_file.exists():
        return []
    try:
        with sqlite3.connect(paths.db_file, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet


def _fast_heartbeat(paths) -> None:
    with paths.config_file.open("a") as config:
        config.write("[heartbeat]\ninterval_seconds = 1\n")


def test_heartbeat_row_appears_and_status_reports_running(wk_home, procs):
    t0 = time.monotonic()
    procs.append(start_instance())
    wait_until(lambda: _db_rows(wk_home, "SELECT last_beat_at FROM daemon_state"), timeout=5,
               message="the first heartbeat row")
    first_beat = time.monotonic() - t0
    assert first_beat < 5
    status = wait_until(lambda: (r := cli("status", "--json")).returncode == 0 and r, timeout=10)
    data = json.loads(status.stdout)
    assert data["running"] is True
    assert data["pid"] == procs[0].pid
    assert data["last_heartbeat"] == _db_rows(wk_home, "SELECT last_beat_at FROM daemon_state")[0][0]


def test_ten_simultaneous_starts_leave_exactly_one_running(wk_home, procs):
    batch = [start_instance() for _ in range(10)]
    procs.extend(batch)
    wait_until(lambda: sum(p.poll() is not None for p in batch) >= 9, timeout=60, message="nine exits")
    codes = sorted(p.poll() for p in batch if p.poll() is not None)
    running = [p for p in batch if p.poll() is None]
    assert codes == [3] * 9
    assert len(running) == 1
    wait_until(lambda: getattr(running_instance(wk_home), "pid", None) == running[0].pid, timeout=10,
               message="the survivor's pid in the lock")


def test_second_start_exits_3_naming_the_running_pid(wk_home, procs):
    procs.append(start_instance())
    wait_until(lambda: running_instance(wk_home) and read_pid_file(wk_home.pid_file), timeout=10)
    second = subprocess.run([sys.executable, "-m", "engine", "run", "--headless"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert second.returncode == 3
    assert f"PID {procs[0].pid}" in second.stderr


def test_kill_9_then_restart_succeeds_within_2s_and_records_downtime(wk_home, procs):
    _fast_heartbeat(wk_home)
    first = start_instance()
    procs.append(first)
    wait_until(lambda: _db_rows(wk_home, "SELECT id FROM daemon_state"), timeout=10)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert wk_home.pid_file.exists()  # left behind by the kill, and harmless
    t0 = time.monotonic()
    second = start_instance()
    procs.append(second)
    wait_until(lambda: len(_db_rows(wk_home, "SELECT id FROM daemon_state")) == 2, timeout=10,
               message="the new instance's daemon_state row")
    assert time.monotonic() - t0 < 2.0
    assert second.poll() is None
    gaps = _db_rows(wk_home, "SELECT kind FROM heartbeat_gaps")
    assert gaps == [("down",)]
    events = {r[0] for r in _db_rows(wk_home, "SELECT kind FROM discovered_events")}
    assert {"downtime", "unclean_shutdown"} <= events


def test_sigterm_gives_a_clean_shutdown_and_no_pid_file(wk_home, procs):
    proc = start_instance()
    procs.append(proc)
    wait_until(lambda: running_instance(wk_home), timeout=10)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert not wk_home.pid_file.exists()
    assert not wk_home.control_file.exists()
    assert _db_rows(wk_home, "SELECT clean_shutdown, stop_reason FROM daemon_state") == [(1, "signal SIGTERM")]
    assert running_instance(wk_home) is None


def test_stop_command_ends_the_instance_gracefully(wk_home, procs):
    proc = start_instance()
    procs.append(proc)
    wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=10)
    result = cli("stop")
    assert result.returncode == 0, result.stderr
    assert proc.wait(20) == 0
    assert _db_rows(wk_home, "SELECT clean_shutdown FROM daemon_state") == [(1,)]
    assert cli("stop").stdout.strip() == "watchkeeper is not running"


def _script(path, body: str):
    """An executable Python script at ``path`` (run through its shebang, like a console script)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


def _alive(proc: subprocess.Popen) -> bool:
    return proc.poll() is None


def test_kill_orphans_ends_a_stray_instance_but_not_the_cli_or_the_bootloader_parent(wk_home, procs, tmp_path):
    """A live instance under a parent that looks like the one-file bootloader, a `check run` CLI
    command waiting on it, and a genuine orphan: a real `run` stuck before it takes the lock.
    `run --kill-orphans` (exit 3: the instance runs) ends only the orphan."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sleeper_pid = tmp_path / "sleeper.pid"
    code = (f"import os, pathlib, time; pathlib.Path({str(sleeper_pid)!r}).write_text(str(os.getpid())); "
            "time.sleep(600)")
    with wk_home.config_file.open("a") as config:
        config.write("[scheduler]\nshutdown_wait_seconds = 1\n\n[[user_checks]]\nname = \"sleeper\"\n"
                     f"kind = \"command\"\ncommand = {json.dumps([sys.executable, '-c', code])}\n"
                     "timeout_seconds = 900.0\n")
    # The one-file binary's bootloader runs the real program as its child, with the same command line.
    bootloader = _script(tmp_path / "onefile" / "watchkeeper",
                         "import subprocess, sys\n"
                         "sys.exit(subprocess.call([sys.executable, '-m', 'engine', *sys.argv[1:]]))\n")
    console = _script(tmp_path / "bin" / "watchkeeper", "import sys\nfrom tray.main import main\nsys.exit(main())\n")
    parent = subprocess.Popen([str(bootloader), "run", "--headless"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(parent)
    holder = wait_until(lambda: (i := running_instance(wk_home)) and i.pid and wk_home.control_file.exists() and i,
                        timeout=20, message="the instance under the bootloader")
    assert holder.pid in [c.pid for c in _children(parent.pid)]
    user_command = subprocess.Popen([str(console), "check", "run", "sleeper"], env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(user_command)
    wait_until(lambda: sleeper_pid.exists() and sleeper_pid.read_text(), timeout=20, message="the check's program")
    # A real `run` for this home that is stuck before the lock: its interpreter waits at start-up.
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text("import time\ntime.sleep(600)\n")
    orphan = subprocess.Popen([sys.executable, "-m", "engine", "run", "--headless"], cwd=ROOT,
                              env={**env, "PYTHONPATH": f"{hold}{os.pathsep}{ROOT}"})
    procs.append(orphan)
    wait_until(lambda: _cmdline(orphan.pid)[1:] == ["-m", "engine", "run", "--headless"], timeout=10)

    doctor = cli("doctor")
    assert f"orphan watchkeeper processes for this data folder: {orphan.pid}." in doctor.stdout, doctor.stdout
    second = cli("run", "--headless", "--kill-orphans", env=env)

    assert second.returncode == 3, second.stderr
    assert orphan.wait(20) is not None
    assert _alive(parent) and _alive(user_command), "a process that is not an orphan was ended"
    assert running_instance(wk_home).pid == holder.pid
    assert cli("stop").returncode == 0
    assert parent.wait(20) == 0


def _children(pid: int) -> list:
    import psutil

    return psutil.Process(pid).children()


def _cmdline(pid: int) -> list[str]:
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def test_readme_run_command_starts_headless_without_a_display(wk_home, procs):
    """`python3 dev.py run` as the README says, on a machine without a display."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND")}
    # First use installs what is missing (the test suite's own run of dev.py did that already).
    subprocess.run([sys.executable, str(ROOT / "dev.py"), "run", "--version"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=600)
    log = wk_home.log_dir / "dev-run.out"
    out = open(log, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, str(ROOT / "dev.py"), "run"], env=env, cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT)
    procs.append(proc)
    t0 = time.monotonic()
    beat = wait_until(lambda: _db_rows(wk_home, "SELECT last_beat_at FROM daemon_state"), timeout=5,
                      message="the first heartbeat row")
    assert time.monotonic() - t0 < 5  # the venv exists already (dev.py test made it)
    status = json.loads(wait_until(lambda: (r := cli("status", "--json")).returncode == 0 and r, timeout=10).stdout)
    assert status["running"] is True and status["last_heartbeat"] == beat[0][0]
    cli("stop", check=True)
    proc.wait(20)
    out.close()
    assert "running headless: no display or tray host available" in log.read_text()
