"""Built-in checks' keys from the environment: WATCHKEEPER_CHECKS_<NAME>_<KEY>, read per the key's
type, validated by the check kind with the variable named, winning over the file, shown with its source."""

from __future__ import annotations

import json

import pytest

from engine.checks.registry import build_definitions
from engine.compose import parse_config
from engine.config import ConfigError, sources
from engine.units import CHECK_KINDS, UNITS
from tests.helpers import cli


def _params(config, name: str) -> dict:
    definition = next(d for d in build_definitions(config, CHECK_KINDS)[0] if d.name == name)
    return {"enabled": definition.enabled, "schedule": definition.schedule, **definition.params}


def test_each_type_is_read_from_its_variable_and_wins_over_the_file():
    env = {"WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB": "5", "WATCHKEEPER_CHECKS_DISK_SPACE_ENABLED": "no",
           "WATCHKEEPER_CHECKS_DISK_SPACE_VOLUMES": "/srv, /home", "WATCHKEEPER_CHECKS_DISK_SPACE_SCHEDULE": "every 5m",
           "WATCHKEEPER_CHECKS_LISTENING_PORTS_ALLOWED_PORTS": "22,8080",
           "WATCHKEEPER_CHECKS_STALE_APPLICATIONS_DAYS": "3"}
    config = parse_config({"checks": {"disk_space": {"min_free_gb": 2.0, "min_free_percent": 7.5}}}, UNITS, env)
    disk = _params(config, "disk_space")
    assert (disk["enabled"], disk["schedule"], disk["min_free_gb"], disk["volumes"]) == \
        (False, "every 5m", 5.0, ["/srv", "/home"])
    assert disk["min_free_percent"] == 7.5  # the file's, untouched
    assert _params(config, "listening_ports")["allowed_ports"] == [22, 8080]
    assert _params(config, "stale_applications")["days"] == 3
    origins = sources(config)["checks"]
    assert origins["disk_space"]["min_free_gb"] == "env WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB"
    assert origins["disk_space"]["min_free_percent"] == "file"


@pytest.mark.parametrize(("variable", "text", "message"), [
    ("WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB", "lots",
     "WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB = 'lots' is not allowed: expected a number"),
    ("WATCHKEEPER_CHECKS_DISK_SPACE_ENABLED", "perhaps",
     "WATCHKEEPER_CHECKS_DISK_SPACE_ENABLED = 'perhaps' is not allowed: expected true or false (or 1/0, yes/no)"),
    ("WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_PERCENT", "150",
     "WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_PERCENT: checks.disk_space.min_free_percent = 150.0 is not allowed"),
    ("WATCHKEEPER_CHECKS_DISK_SPACE_SCHEDULE", "sometimes",
     "WATCHKEEPER_CHECKS_DISK_SPACE_SCHEDULE: checks.disk_space.schedule = 'sometimes' is not allowed: expected"),
    ("WATCHKEEPER_CHECKS_GOAL_STALENESS_DAYS", "2.5",
     "WATCHKEEPER_CHECKS_GOAL_STALENESS_DAYS = '2.5' is not allowed: expected a whole number"),
])
def test_a_bad_value_is_refused_naming_the_variable(variable, text, message):
    with pytest.raises(ConfigError) as err:
        parse_config({}, UNITS, {variable: text})
    assert str(err.value).startswith(message), str(err.value)


def test_an_unknown_check_or_key_is_warned_about_and_changes_nothing():
    config = parse_config({}, UNITS, {"WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE": "5",
                                      "WATCHKEEPER_CHECKS_NOSUCH_ENABLED": "false"})
    warned = [w for w in config.warnings if "WATCHKEEPER_CHECKS_" in w]
    assert len(warned) == 2 and all(w.startswith("unknown environment variable WATCHKEEPER_CHECKS_") for w in warned)
    assert "disk_space" in warned[0] and config.checks == {}


def test_config_show_names_the_variable_of_a_check_key(wk_home):
    env = {"WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB": "5"}
    shown = cli("config", "show", env=env, check=True).stdout.splitlines()
    at = shown.index("[checks.disk_space]")
    assert shown[at + 1] == "min_free_gb = 5.0  # env WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB"
    settings = json.loads(cli("config", "show", "--json", env=env, check=True).stdout)
    assert settings["settings"]["checks"]["disk_space"]["min_free_gb"] == 5.0
    bad = cli("config", "validate", env={"WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB": "lots"})
    assert bad.returncode == 2 and "WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB = 'lots'" in bad.stderr
