"""The command line as a user meets it (real processes, real data dir)."""

from __future__ import annotations

import json
import re

from engine import __version__
from tests.helpers import cli

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def test_version(wk_home):
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"watchkeeper {__version__}"


def test_config_path_writes_the_commented_template(wk_home):
    wk_home.config_file.unlink()  # a new user: no config yet
    result = cli("config", "path")
    assert result.stdout.strip() == str(wk_home.config_file)
    assert "# interval_seconds = 60" in wk_home.config_file.read_text()


def test_bad_config_value_exits_2_naming_key_value_and_allowed(wk_home):
    wk_home.config_file.write_text('[heartbeat]\ninterval_seconds = "often"\n')
    for args in (("config", "validate"), ("check", "run", "--all"), ("run", "--headless")):
        result = cli(*args)
        assert result.returncode == 2, args
        assert "heartbeat.interval_seconds = 'often' is not allowed: expected a whole number" in result.stderr


def test_unknown_key_is_warned_about(wk_home):
    wk_home.config_file.write_text("[heartbeat]\nintervall = 5\n")
    result = cli("config", "validate")
    assert result.returncode == 0
    assert "unknown key heartbeat.intervall" in result.stderr


def test_config_show_never_prints_the_token(wk_home):
    result = cli("config", "show", "--json", env={"WATCHKEEPER_TELEGRAM_TOKEN": TOKEN})
    assert result.returncode == 0
    assert TOKEN not in result.stdout + result.stderr
    assert json.loads(result.stdout)["settings"]["telegram"]["token"] == "<set>"


def test_status_when_not_running_exits_1(wk_home):
    with wk_home.config_file.open("a") as config:
        config.write("[toast]\nenabled = false\n")  # what a toast probe finds depends on the machine
    result = cli("status", "--json")
    assert result.returncode == 1
    off = {"pending": 0, "failed": 0, "last_error": None, "last_error_at": None, "last_ok_at": None,
           "rate_limited_until": None, "reason": None, "state": "disabled", "held": 0}
    data = json.loads(result.stdout)
    assert data.pop("presence") in ("present", "away", "unknown") and data.pop("presence_detail")  # machine's
    assert data == {"running": False, "state": "stopped", "last_instance": None,
                    "channels": [{"name": "toast", **off}, {"name": "telegram", **off}],
                    "alerts": {"attention": 0, "acknowledged": 0, "snoozed": 0},
                    "problems": ["no channel can deliver alerts"]}


def test_doctor_reports_each_area_in_plain_words(wk_home):
    with wk_home.config_file.open("a") as config:
        config.write("[toast]\nenabled = false\n")  # a channel that can deliver anywhere: Telegram
    result = cli("doctor", env={"WATCHKEEPER_TELEGRAM_TOKEN": TOKEN, "WATCHKEEPER_TELEGRAM_CHAT_ID": "42"})
    areas = [line.split()[1].rstrip(":") for line in result.stdout.splitlines()]
    assert {"config", "lock", "database", "scheduler"} <= set(areas)
    assert result.returncode == 0


def test_bad_usage_exits_2(wk_home):
    assert cli("nonsense").returncode == 2
    assert cli("check", "run").returncode == 2


def test_corrupt_database_is_a_clear_error_and_is_left_untouched(wk_home):
    wk_home.db_file.write_bytes(b"this is not a database" * 200)
    before = wk_home.db_file.read_bytes()
    run = cli("run", "--headless")
    assert run.returncode == 1 and "file is not a database" in run.stderr and str(wk_home.db_file) in run.stderr
    status = cli("status")
    assert status.returncode == 1 and "file is not a database" in status.stderr
    doctor = cli("doctor")
    assert doctor.returncode == 1 and "PROBLEM database" in doctor.stdout and "OK      config" in doctor.stdout
    assert wk_home.db_file.read_bytes() == before


HUMAN_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d"  # engine.timeutil.human_time, without seconds


def test_times_are_shown_in_the_configured_zone_with_its_abbreviation_and_no_microseconds(wk_home):
    with wk_home.config_file.open("a") as f:
        f.write('[general]\ntimezone = "Europe/Berlin"\n')
    cli("demo", check=True)
    cli("check", "run", "stale_applications", check=True)
    why = cli("check", "why", "stale_applications", check=True).stdout
    assert re.search(rf"Last notified: {HUMAN_TIME}:\d\d CES?T\n", why), why
    assert re.search(rf"Current time: {HUMAN_TIME}:\d\d CES?T\n", why), why
    paused = cli("pause", "2h", check=True).stdout
    assert re.fullmatch(rf"Alerts paused until {HUMAN_TIME} CES?T\.\n", paused), paused
    listing = cli("checks", check=True).stdout
    assert re.search(rf"stale_applications .* {HUMAN_TIME} CES?T ", listing), listing
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", why + paused + listing)  # never microseconds
    as_json = json.loads(cli("check", "why", "stale_applications", "--json", check=True).stdout)
    assert as_json["now"].endswith("Z")  # JSON stays UTC ISO-8601


def test_without_a_configured_zone_times_follow_the_machine_zone_from_tz(wk_home):
    paused = cli("pause", "2h", env={"TZ": "America/New_York"}, check=True).stdout
    assert re.fullmatch(rf"Alerts paused until {HUMAN_TIME} E[SD]T\.\n", paused), paused


def test_home_option_puts_config_data_and_logs_under_it_like_watchkeeper_home(tmp_path):
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    home = tmp_path / "portable wk"
    env = {k: v for k, v in os.environ.items() if k != "WATCHKEEPER_HOME"}
    done = subprocess.run([sys.executable, "-m", "engine", "--home", str(home), "config", "path"], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(home / "config" / "config.toml")
    subprocess.run([sys.executable, "-m", "engine", "--home", str(home), "demo"], env=env, check=True,
                   capture_output=True, cwd=ROOT, timeout=60)
    assert (home / "data").is_dir() and (home / "logs").is_dir()
