"""Bad input met by real processes: refused config values, absurd command-line durations and an
odd TZ give one clear line and an exit code, never a traceback."""

from __future__ import annotations

import json
import subprocess

import pytest

from engine.process.lifecycle import running_instance
from tests.helpers import cli, start_instance, wait_until

ODD_TZ = ["UTC+5", "Nowhere/Zone", ""]


def _append(paths, text: str) -> None:
    with paths.config_file.open("a") as config:
        config.write(text)


@pytest.fixture
def procs():
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def test_config_validate_refuses_an_absurd_cooldown_with_its_range(wk_home):
    _append(wk_home, '[checks.disk_space]\ncooldown = "99999999999d"\n')
    result = cli("config", "validate")
    assert result.returncode == 2
    assert ("checks.disk_space.cooldown = '99999999999d' is not allowed: expected a duration from 1s to 365d"
            in result.stderr)
    assert "Traceback" not in result.stderr


def test_a_schedule_that_would_spin_is_refused_by_validate_and_at_start(wk_home):
    _append(wk_home, '[checks.disk_space]\nschedule = "every 0.001s"\n')
    message = ("checks.disk_space.schedule = 'every 0.001s' is not allowed: "
               'expected "every DURATION" with a duration from 1s to 365d')
    for args in (("config", "validate"), ("run", "--headless")):
        result = cli(*args)
        assert result.returncode == 2, args
        assert message in result.stderr and "Traceback" not in result.stderr
    assert running_instance(wk_home) is None


def test_an_infinite_timeout_is_refused_at_start(wk_home):
    _append(wk_home, '[[user_checks]]\nname = "forever"\nkind = "command"\ncommand = ["sleep", "1"]\n'
                     "timeout_seconds = inf\n")
    result = cli("run", "--headless")
    assert result.returncode == 2
    assert ("user_checks[0].timeout_seconds = inf is not allowed: expected a number of seconds greater than 0 "
            "and at most 86400") in result.stderr


@pytest.mark.parametrize("args", [("pause", "99999999999d"), ("alerts", "snooze", "1", "99999999999d"),
                                  ("pause", "1e400s")])
def test_an_absurd_duration_on_the_command_line_is_a_clear_error(wk_home, args):
    result = cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "duration" in result.stderr and args[-1] in result.stderr


SPREAD = [("status",), ("checks",), ("check", "run", "--all"), ("check", "why", "disk_space"), ("log",),
          ("alerts",), ("config", "show"), ("doctor",)]


@pytest.mark.parametrize("tz", ODD_TZ)
def test_an_odd_tz_falls_back_to_utc_with_one_warning_in_every_command(wk_home, tz):
    for args in SPREAD:
        result = cli(*args, env={"TZ": tz})
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert result.returncode in (0, 1), (args, result.returncode, result.stderr)
        warnings = [line for line in result.stderr.splitlines() if f"TZ={tz!r}" in line]
        assert len(warnings) == 1 and "using UTC" in warnings[0], (args, result.stderr)


@pytest.mark.parametrize("tz", ODD_TZ)
def test_an_odd_tz_lets_the_engine_run_and_stop_with_one_warning(wk_home, procs, tz, tmp_path):
    output = tmp_path / "run.out"
    procs.append(start_instance(env={"TZ": tz}, log=output))
    status = wait_until(lambda: (r := cli("status", "--json", env={"TZ": tz})).returncode == 0 and r, timeout=30,
                        message="the instance to report running")
    assert json.loads(status.stdout)["running"] is True
    assert cli("stop", env={"TZ": tz}).returncode == 0
    assert procs[0].wait(30) == 0
    text = output.read_text()
    assert "Traceback" not in text
    warnings = [line for line in text.splitlines() if f"TZ={tz!r}" in line]
    assert len(warnings) == 1 and "using UTC" in warnings[0], text


def test_a_configured_zone_needs_no_tz(wk_home):
    _append(wk_home, '[general]\ntimezone = "Europe/Berlin"\n')
    result = cli("checks", env={"TZ": "Nowhere/Zone"})
    assert result.returncode == 0 and "TZ=" not in result.stderr
