"""Config edits reach the running instance (real processes): a check added to config.toml becomes
runnable within seconds, an invalid edit keeps the last good settings with health DEGRADED and the
reason until it is fixed, and `watchkeeper reload` says what changed or what is wrong."""

from __future__ import annotations

import json
import sys

from tests.helpers import cli, start_instance, wait_until

NEW_CHECK = f"""
[[user_checks]]
name = "newcheck"
kind = "command"
command = [{json.dumps(sys.executable)}, "-c", "pass"]
schedule = "every 1h"
"""


def _status(wk_home) -> dict:
    return json.loads(cli("status", "--json").stdout)


def _start(wk_home, procs) -> str:
    good = wk_home.config_file.read_text()
    procs.append(start_instance())
    wait_until(lambda: cli("status").returncode == 0, timeout=30, message="the instance to run")
    return good


def test_a_check_added_to_config_toml_becomes_runnable_and_a_removed_one_goes(wk_home, procs):
    good = _start(wk_home, procs)
    assert "no check named 'newcheck'" in cli("check", "run", "newcheck").stderr
    wk_home.config_file.write_text(good + NEW_CHECK)
    run = wait_until(lambda: (r := cli("check", "run", "newcheck")).returncode == 0 and r, timeout=30,
                     message="check run newcheck to work")
    assert "newcheck: ok" in run.stdout
    wk_home.config_file.write_text(good)
    wait_until(lambda: "no check named 'newcheck'" in cli("check", "run", "newcheck").stderr, timeout=30,
               message="newcheck to be gone")


def test_an_invalid_edit_keeps_the_last_good_settings_with_health_degraded_until_fixed(wk_home, procs):
    good = _start(wk_home, procs)
    wk_home.config_file.write_text(good + "[alerts\nquiet_hours_start = 7\n")
    reason = wait_until(lambda: next((r for r in _status(wk_home).get("reasons", [])
                                      if r.startswith("config.toml invalid:")), None),
                        timeout=30, message="health to name the invalid config")
    assert "not valid TOML" in reason and reason.endswith("running with the last good settings")
    status = cli("status")
    assert status.returncode == 0 and "DEGRADED" in status.stdout and "config.toml invalid" in status.stdout
    reload = cli("reload")
    assert reload.returncode == 1 and "config.toml invalid:" in reload.stderr and "not valid TOML" in reload.stderr
    assert cli("check", "run", "stale_applications").returncode == 0  # the last good checks still run
    wk_home.config_file.write_text(good + NEW_CHECK)
    wait_until(lambda: not any(r.startswith("config.toml invalid") for r in _status(wk_home)["reasons"]),
               timeout=30, message="the config reason to clear")
    assert cli("check", "run", "newcheck").returncode == 0


def test_reload_names_settings_that_need_a_restart(wk_home, procs):
    good = _start(wk_home, procs)
    port = int(good.split("port = ")[1].split()[0])
    wk_home.config_file.write_text(good.replace(f"port = {port}", f"port = {port + 1}"))
    reload = cli("reload")
    assert reload.returncode == 0, reload.stderr
    assert "needs a restart: api.port" in reload.stdout


def test_reload_without_an_instance_says_it_is_not_running(wk_home):
    result = cli("reload")
    assert result.returncode == 1 and "not running" in result.stderr
