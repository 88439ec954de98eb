"""Environment problems (a folder that cannot be created, a read-only database, a closed pipe)
are one line naming the path and the cause and exit 1, never a traceback (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, cli
from tests.readonly import read_only

FIXTURES = ROOT / "tests" / "fixtures" / "conversations"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize("args", [("status",), ("checks",), ("config", "path"), ("config", "show"),
                                  ("alerts", "ack", "1"), ("run", "--headless")])
def test_home_under_a_regular_file_names_the_folder_the_cause_and_the_home(tmp_path, args):
    (tmp_path / "afile").write_text("")
    home = tmp_path / "afile" / "wk"
    result = cli(*args, env={"WATCHKEEPER_HOME": str(home)})
    assert_one_line_error(result, "cannot create the ", f"folder {home}/", ": Not a directory",
                          f"(WATCHKEEPER_HOME={home})")


def test_home_that_cannot_be_created_on_a_read_only_file_system(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    with read_only(parent):
        result = cli("status", env={"WATCHKEEPER_HOME": str(parent / "wk")})
    assert_one_line_error(result, f"cannot create the log folder {parent / 'wk' / 'logs'}: Read-only file system")


def test_read_only_log_file_is_named(wk_home):
    cli("status")  # creates the log file
    with read_only(wk_home.log_file):
        result = cli("checks")
    assert_one_line_error(result, f"cannot write the log file {wk_home.log_file}: Read-only file system")


def test_read_only_database_refuses_writes_in_one_line_and_reads_still_work(wk_home):
    cli("demo", check=True)
    with read_only(wk_home.db_file):
        paused = cli("pause", "1h")
        run = cli("check", "run", "--all")
        listed = cli("alerts")
    for result in (paused, run):
        assert_one_line_error(result, f"cannot write the database {wk_home.db_file}: it is read-only")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr


def test_read_only_data_folder_names_the_folder(wk_home):
    cli("demo", check=True)
    with read_only(wk_home.data_dir):
        result = cli("pause", "1h")
    assert_one_line_error(result, f"database {wk_home.db_file}: ", f"(its folder {wk_home.data_dir} is read-only)")


def _archived_session_id() -> str:
    cli("archive", "run", "--source", str(FIXTURES), check=True)
    sessions = json.loads(cli("archive", "sessions", "--json", check=True).stdout)
    rows = sessions["sessions"] if isinstance(sessions, dict) else sessions
    return str(rows[0]["session_id"])


def test_output_into_a_closed_pipe_ends_quietly(wk_home):
    cli("demo", check=True)
    cli("check", "run", "--all", check=True)
    session = _archived_session_id()
    for args in (("config", "show"), ("alerts", "--json"), ("archive", "show", session),
                 ("archive", "search", "the"), ("log",), ("checks", "--json"), ("status", "--json")):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the command writes anything: like `| head` done early
        try:
            result = subprocess.run([sys.executable, "-m", "engine", *args], stdout=write_end, stderr=subprocess.PIPE,
                                    text=True, timeout=60, cwd=ROOT)
        finally:
            os.close(write_end)
        assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, (args, result.stderr)
        assert result.stderr == "", (args, result.stderr)
        assert result.returncode == 1, args
