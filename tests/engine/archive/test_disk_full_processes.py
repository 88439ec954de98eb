"""`watchkeeper archive run` on a full disk, as real processes next to a running instance: one
clear line on stderr, the database intact, health DEGRADED naming the full disk, and recovery
once space is back. The whole WATCHKEEPER_HOME (data and logs) lives on a small tmpfs."""

from __future__ import annotations

import json
import re
import sqlite3
import sys

import pytest

from tests.conftest import free_port
from tests.helpers import cli, start_instance, wait_until
from tests.tinydisk import fill, tiny_disk

from ._gen import write_sessions

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="tmpfs")


def _status(env):
    result = cli("status", "--json", env=env)
    return json.loads(result.stdout) if result.returncode == 0 else None


def _disk_reasons(env):
    data = _status(env)
    return data is not None and [r for r in data["reasons"] if "disk full" in r]


def test_archive_run_on_a_full_disk_says_so_once_degrades_health_and_recovers(tmp_path, monkeypatch):
    with tiny_disk(tmp_path / "home", 64) as home:
        env = {"WATCHKEEPER_HOME": str(home)}
        monkeypatch.setenv("WATCHKEEPER_HOME", str(home))
        (home / "config").mkdir()
        (home / "config" / "config.toml").write_text(
            f"[api]\nport = {free_port()}\n[archive]\nenabled = false\n")
        log = tmp_path / "instance.log"
        proc = start_instance(env=env, log=log)
        try:
            wait_until(lambda: _status(env), timeout=30, message="the instance to answer status")
            src = tmp_path / "src"
            write_sessions(src / "a", 2, 100_000)
            assert cli("archive", "run", "--source", str(src), env=env).returncode == 0
            write_sessions(src / "b", 14, 300_000)
            filler = fill(home, 1_000_000)

            full = cli("archive", "run", "--source", str(src), env=env)

            assert full.returncode == 1
            assert "Traceback" not in full.stderr
            lines = [line for line in full.stderr.splitlines() if "disk full" in line]
            assert len(lines) == 1, full.stderr
            assert re.search(rf"disk full: \d+\.\d MB free at {re.escape(str(home / 'data'))}\b", lines[0])
            db_file = home / "data" / "watchkeeper.db"
            with sqlite3.connect(db_file) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert conn.execute("SELECT count(*) FROM conversation_archive_sessions").fetchone()[0] >= 2
                assert conn.execute("SELECT status FROM conversation_archive_runs ORDER BY id DESC"
                                    ).fetchone()[0] == "disk_full"

            reasons = wait_until(lambda: _disk_reasons(env), timeout=30, message="health naming the full disk")
            assert _status(env)["state"] == "degraded" and reasons
            doctor = cli("doctor", env=env)
            assert re.search(r"PROBLEM\s+disk: disk full: \d+\.\d MB free at ", doctor.stdout), doctor.stdout

            filler.unlink()
            again = cli("archive", "run", "--source", str(src), env=env)

            assert again.returncode == 0, again.stderr
            wait_until(lambda: _status(env) is not None and not _disk_reasons(env), timeout=30,
                       message="health without the disk-full reason")
            with sqlite3.connect(db_file) as conn:
                assert conn.execute("SELECT count(*) FROM conversation_archive_sessions").fetchone()[0] == 16
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert "disk" in cli("doctor", env=env).stdout
        finally:
            cli("stop", env=env)
            try:
                proc.wait(30)
            except Exception:
                proc.kill()
                proc.wait(10)
        assert "Traceback" not in log.read_text(errors="replace")
