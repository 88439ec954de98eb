"""Settings from the environment through real processes: `config show` names where each value came
from, and a bad value refuses the command with exit 2 naming the variable."""

from __future__ import annotations

import json

from tests.conftest import free_port
from tests.helpers import cli

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def test_config_show_names_the_environment_variable_the_file_and_the_default_as_sources(wk_home):
    port = free_port()
    result = cli("config", "show", env={"WATCHKEEPER_API_PORT": str(port)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"port = {port}  # env WATCHKEEPER_API_PORT" in lines
    assert "interval_seconds = 60  # default" in lines

    with wk_home.config_file.open("a") as fh:
        fh.write("[heartbeat]\ninterval_seconds = 30\n")
    shown = json.loads(cli("config", "show", "--json", env={"WATCHKEEPER_TELEGRAM_TOKEN": TOKEN}).stdout)
    assert shown["sources"]["heartbeat"]["interval_seconds"] == "file"
    assert shown["sources"]["api"]["port"] == "file"  # the wk_home config sets it
    assert shown["sources"]["telegram"]["token"] == "env WATCHKEEPER_TELEGRAM_TOKEN"
    assert shown["settings"]["telegram"]["token"] == "<set>"


def test_a_bad_environment_value_exits_2_naming_the_variable(wk_home):
    result = cli("config", "show", env={"WATCHKEEPER_API_PORT": "70000"})
    assert result.returncode == 2
    assert "WATCHKEEPER_API_PORT = '70000' is not allowed: expected a port number from 1 to 65535" in result.stderr


def test_a_bad_secret_from_the_environment_is_not_printed(wk_home):
    result = cli("config", "show", env={"WATCHKEEPER_TELEGRAM_TOKEN": TOKEN, "WATCHKEEPER_TELEGRAM_ENABLED": "perhaps"})
    assert result.returncode == 2 and "WATCHKEEPER_TELEGRAM_ENABLED = 'perhaps' is not allowed" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_config_validate_warns_about_an_unknown_variable_of_a_known_section(wk_home):
    result = cli("config", "validate", env={"WATCHKEEPER_API_PROT": "1"})
    assert result.returncode == 0
    assert "warning: unknown environment variable WATCHKEEPER_API_PROT (ignored)" in result.stderr
