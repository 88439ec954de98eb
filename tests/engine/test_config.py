"""Config: defaults in code, a commented template, clear errors, unknown keys warned about."""

from __future__ import annotations

import dataclasses
import math
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compose import ensure_config_file
from engine.config import Config, ConfigError, env_variable, redacted, sources
from engine.units import UNITS
from tests.helpers import load_config, parse_config

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def test_empty_config_gives_defaults():
    config = parse_config({}, env={})
    assert config.heartbeat.interval_seconds == 60
    assert config.scheduler.misfire_grace_seconds == 3600
    assert config.warnings == []


def test_template_is_valid_toml_and_every_setting_is_commented_out(tmp_path):
    path = tmp_path / "config.toml"
    assert ensure_config_file(path, UNITS) is True
    assert ensure_config_file(path, UNITS) is False  # never overwritten
    text = path.read_text()
    assert tomllib.loads(text) == {name: {} for name in tomllib.loads(text)}
    assert "# interval_seconds = 60" in text
    assert "# [checks.stale_applications]" in text
    assert load_config(path, env={}).heartbeat == Config().heartbeat


def test_bad_value_names_key_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as err:
        parse_config({"heartbeat": {"interval_seconds": "often"}}, env={})
    assert str(err.value) == "heartbeat.interval_seconds = 'often' is not allowed: expected a whole number"
    with pytest.raises(ConfigError, match=r"api.port = 70000 is not allowed: expected a port number"):
        parse_config({"api": {"port": 70000}}, env={})
    with pytest.raises(ConfigError, match=r"alerts.quiet_hours_start = '25:00'.*HH:MM"):
        parse_config({"alerts": {"quiet_hours_start": "25:00"}}, env={})


def test_unknown_keys_and_sections_are_warned_about():
    config = parse_config({"heartbeet": {}, "api": {"prot": 1}}, env={})
    assert any("heartbeet" in w for w in config.warnings)
    assert any("api.prot" in w and "port" in w for w in config.warnings)


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[api\nport = ")
    with pytest.raises(ConfigError, match="config.toml: not valid TOML"):
        load_config(path, env={})


def test_secret_is_never_shown_in_errors_or_redacted_output():
    with pytest.raises(ConfigError) as err:
        parse_config({"telegram": {"token": 12345}}, env={})
    assert "12345" not in str(err.value)
    config = parse_config({"telegram": {"token": TOKEN}}, env={})
    assert TOKEN not in repr(redacted(config))
    assert redacted(config)["telegram"]["token"] == "<set>"


def test_environment_overrides_telegram_settings():
    env = {"WATCHKEEPER_TELEGRAM_TOKEN": TOKEN, "WATCHKEEPER_TELEGRAM_CHAT_ID": "42",
           "WATCHKEEPER_TELEGRAM_API_URL": "http://127.0.0.1:1/bot"}
    config = parse_config({}, env=env)
    assert (config.telegram.token, config.telegram.chat_id, config.telegram.api_url) == (
        TOKEN, "42", "http://127.0.0.1:1/bot")


@pytest.mark.parametrize(("raw", "message"), [
    ({"heartbeat": {"interval_seconds": 0}},
     "heartbeat.interval_seconds = 0 is not allowed: expected a number of seconds from 1 to 3600"),
    ({"heartbeat": {"interval_seconds": 10**30}},
     f"heartbeat.interval_seconds = {10**30} is not allowed: expected a number of seconds from 1 to 3600"),
    ({"telegram": {"timeout_seconds": float("inf")}},
     "telegram.timeout_seconds = inf is not allowed: expected a number of seconds from 0.1 to 600"),
    ({"telegram": {"timeout_seconds": float("nan")}},
     "telegram.timeout_seconds = nan is not allowed: expected a number of seconds from 0.1 to 600"),
    ({"delivery": {"offline_ttl": "99999999999d"}},
     "delivery.offline_ttl = '99999999999d' is not allowed: expected a duration from 1s to 365d"),
    ({"delivery": {"max_backoff_seconds": -5}},
     "delivery.max_backoff_seconds = -5 is not allowed: expected a number of seconds from 1 to 86400"),
    ({"weekly": {"keep_backups": 10**30}},
     f"weekly.keep_backups = {10**30} is not allowed: expected a number from 1 to 1000"),
    ({"archive": {"max_line_bytes": 10**30}},
     f"archive.max_line_bytes = {10**30} is not allowed: expected a number of bytes from 1024 to 1073741824"),
    ({"archive": {"schedule": "every 0.001s"}},
     "archive.schedule = 'every 0.001s' is not allowed: expected \"every DURATION\" with a duration from 1s to 365d"),
    ({"weekly": {"schedule": "cron 0 3 31 2 *"}},
     "weekly.schedule = 'cron 0 3 31 2 *' is not allowed: expected \"cron MINUTE HOUR DAY MONTH WEEKDAY\" "
     "that fires at some time (this one never does)"),
    ({"alerts": {"log_retention_days": 10**12}},
     f"alerts.log_retention_days = {10**12} is not allowed: expected a number of days from 1 to 3650"),
])
def test_values_that_would_spin_overflow_or_never_end_are_refused_with_the_range(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    assert str(err.value) == message


def test_the_smallest_allowed_schedules_and_heartbeat_still_load():
    config = parse_config({"heartbeat": {"interval_seconds": 1}, "archive": {"schedule": "every 1s"},
                           "checks": {"disk_space": {"schedule": "every 2s", "cooldown": "1s"}}}, env={})
    assert config.heartbeat.interval_seconds == 1 and config.archive.schedule == "every 1s"


def _section_values():
    from engine.compose import config_sections
    from engine.config import layout
    from engine.units import CHANNELS

    numbers = st.one_of(st.integers(min_value=-(10**40), max_value=10**40), st.floats())
    texts = st.one_of(st.text(max_size=30), st.sampled_from(["every 0.001s", "99999999999d", "inf", "every 1h"]))
    keys = [(name, f.name) for name, cls in layout(config_sections(CHANNELS)).items() for f in dataclasses.fields(cls)]
    return st.dictionaries(st.sampled_from(keys), st.one_of(numbers, texts, st.booleans()), max_size=6)


@settings(max_examples=300, deadline=None)
@given(_section_values())
def test_any_section_value_loads_or_is_a_config_error(values):
    raw: dict = {}
    for (section, key), value in values.items():
        raw.setdefault(section, {})[key] = value
    try:
        config = parse_config(raw, env={})
    except ConfigError:
        return
    for section, key in values:
        value = getattr(getattr(config, section), key)
        assert not isinstance(value, float) or math.isfinite(value)


def test_text_with_a_nul_character_is_refused():
    with pytest.raises(ConfigError) as err:
        parse_config({"archive": {"extra_roots": ["/logs\0x"]}}, env={})
    assert str(err.value) == ("archive.extra_roots = ['/logs\\x00x'] is not allowed: "
                              "expected text without NUL characters")


def test_toml_nested_too_deeply_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply") as err:
        load_config(path, env={})
    assert str(path) in str(err.value)


def test_config_parses_sections_without_judging_checks_and_the_composition_step_refuses_bad_ones(tmp_path):
    from engine import compose

    raw = {"checks": {"disk_space": {"cooldown": "never"}}}
    assert parse_config(raw, env={}).checks == raw["checks"]  # shape only: the check kinds judge it
    with pytest.raises(ConfigError, match="checks.disk_space.cooldown = 'never' is not allowed"):
        compose.parse_config(raw, UNITS, env={})
    path = tmp_path / "config.toml"
    path.write_text('[checks.disk_space]\ncooldown = "never"\n')
    with pytest.raises(ConfigError, match="checks.disk_space.cooldown"):
        compose.load_config(path, UNITS, env={})


def test_config_imports_no_check_code():
    import subprocess
    import sys

    code = "import sys, engine.config; print(sorted(m for m in sys.modules if m.startswith('engine.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "engine.checks" not in out, out


def test_telegram_chat_id_as_a_number_is_accepted_as_its_digits():
    config = parse_config({"telegram": {"chat_id": 777}}, env={})
    assert config.telegram.chat_id == "777"
    negative = parse_config({"telegram": {"chat_id": -1001234567890}}, env={})
    assert negative.telegram.chat_id == "-1001234567890"


def test_telegram_chat_id_as_true_is_still_refused():
    with pytest.raises(ConfigError, match="telegram.chat_id = True is not allowed"):
        parse_config({"telegram": {"chat_id": True}}, env={})


def test_windows_path_in_double_quotes_gets_the_single_quote_hint(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[archive]\nsources = ["C:\\Users\\me"]\n[general]\nlog_dir = "C:\\Users\\me\\logs"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "not valid TOML" in str(caught.value)
    assert "use single quotes for Windows paths: log_dir = 'C:\\Users\\me\\logs'" in str(caught.value)


def test_other_toml_errors_get_no_windows_hint(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[general\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "single quotes" not in str(caught.value)


# Settings from the environment: WATCHKEEPER_<SECTION>_<KEY>, read per the key's type, validated like the file.

def _as_env_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def test_every_key_of_every_section_can_be_set_from_the_environment():
    defaults = parse_config({}, env={})
    sections = {name: values for name, values in redacted(defaults).items() if name not in ("checks", "user_checks")}
    for name, values in sections.items():
        for key in values:
            value = getattr(getattr(defaults, name), key)
            if value in ("", []):
                continue  # an empty variable is not an override
            variable = env_variable(name, key)
            config = parse_config({}, env={variable: _as_env_text(value)})
            assert getattr(getattr(config, name), key) == value, variable
            assert sources(config)[name][key] == f"env {variable}"


def test_environment_text_is_read_per_the_type_of_the_key():
    env = {"WATCHKEEPER_API_PORT": "9100", "WATCHKEEPER_API_ENABLED": "no", "WATCHKEEPER_ARCHIVE_ENABLED": "1",
           "WATCHKEEPER_TELEGRAM_TIMEOUT_SECONDS": "2.5", "WATCHKEEPER_DELIVERY_OFFLINE_TTL": "2h",
           "WATCHKEEPER_ALERTS_QUIET_HOURS_WEEKDAYS": "sat, sun", "WATCHKEEPER_GENERAL_TIMEZONE": "Europe/Berlin"}
    config = parse_config({}, env=env)
    assert (config.api.port, config.api.enabled, config.archive.enabled) == (9100, False, True)
    assert (config.telegram.timeout_seconds, config.delivery.offline_ttl) == (2.5, "2h")
    assert config.alerts.quiet_hours_weekdays == ["sat", "sun"]
    assert config.general.timezone == "Europe/Berlin"


def test_the_environment_wins_over_the_file_and_each_value_names_its_source():
    config = parse_config({"api": {"port": 9000}, "heartbeat": {"interval_seconds": 30}},
                          env={"WATCHKEEPER_API_PORT": "9100", "WATCHKEEPER_HEARTBEAT_INTERVAL_SECONDS": ""})
    assert (config.api.port, config.heartbeat.interval_seconds) == (9100, 30)
    origins = sources(config)
    assert origins["api"]["port"] == "env WATCHKEEPER_API_PORT"
    assert origins["heartbeat"]["interval_seconds"] == "file"  # an empty variable does not override
    assert origins["weekly"]["keep_backups"] == "default"


@pytest.mark.parametrize(("env", "message"), [
    ({"WATCHKEEPER_API_PORT": "70000"},
     "WATCHKEEPER_API_PORT = '70000' is not allowed: expected a port number from 1 to 65535"),
    ({"WATCHKEEPER_API_PORT": "8765x"}, "WATCHKEEPER_API_PORT = '8765x' is not allowed: expected a whole number"),
    ({"WATCHKEEPER_API_ENABLED": "maybe"},
     "WATCHKEEPER_API_ENABLED = 'maybe' is not allowed: expected true or false (or 1/0, yes/no)"),
    ({"WATCHKEEPER_TELEGRAM_TIMEOUT_SECONDS": "nan"},
     "WATCHKEEPER_TELEGRAM_TIMEOUT_SECONDS = 'nan' is not allowed: expected a number of seconds from 0.1 to 600"),
    ({"WATCHKEEPER_HEARTBEAT_INTERVAL_SECONDS": "0"},
     "WATCHKEEPER_HEARTBEAT_INTERVAL_SECONDS = '0' is not allowed: expected a number of seconds from 1 to 3600"),
    ({"WATCHKEEPER_ALERTS_QUIET_HOURS_WEEKDAYS": "mon,someday"},
     "WATCHKEEPER_ALERTS_QUIET_HOURS_WEEKDAYS = 'mon,someday' is not allowed: "
     "expected weekday names from mon, tue, wed, thu, fri, sat, sun"),
    ({"WATCHKEEPER_GENERAL_TIMEZONE": "Mars/Olympus"},
     "WATCHKEEPER_GENERAL_TIMEZONE = 'Mars/Olympus' is not allowed: "
     "expected an IANA time zone name such as \"Europe/Berlin\", or \"\" for the local zone"),
])
def test_a_bad_environment_value_is_refused_naming_the_variable_and_what_is_allowed(env, message):
    with pytest.raises(ConfigError) as err:
        parse_config({}, env=env)
    assert str(err.value) == message


def test_unknown_variables_of_a_known_section_are_warned_about_and_other_ones_are_not_config():
    env = {"WATCHKEEPER_API_PROT": "1", "WATCHKEEPER_HOME": "/tmp/wk", "WATCHKEEPER_REQUIRE_GUI": "1",
           "WATCHKEEPER_USER_CHECKS_NAME": "x", "WATCHKEEPER_CHECKS_DISK_SPACE_ENABLED": "false"}
    config = parse_config({}, env=env)
    # the [checks.*] variables are the check kinds' (tests/engine/checks/test_registry_env.py)
    assert config.warnings == [
        "unknown environment variable WATCHKEEPER_API_PROT (ignored); known for [api]: WATCHKEEPER_API_ENABLED, "
        "WATCHKEEPER_API_PORT, WATCHKEEPER_API_BIND, WATCHKEEPER_API_ALLOW",
        "environment variable WATCHKEEPER_USER_CHECKS_NAME ignored: [user_checks] is set in config.toml only",
    ]


def test_a_secret_from_the_environment_is_never_shown_in_errors_or_sources():
    config = parse_config({}, env={"WATCHKEEPER_TELEGRAM_TOKEN": TOKEN})
    assert config.telegram.token == TOKEN
    assert TOKEN not in repr(redacted(config)) + repr(sources(config))
    assert sources(config)["telegram"]["token"] == "env WATCHKEEPER_TELEGRAM_TOKEN"


# -- [api] bind and allow -------------------------------------------------------------------------


def test_the_api_binds_loopback_with_an_empty_allow_list_by_default():
    api = parse_config({}, env={}).api
    assert (api.bind, api.allow) == ("127.0.0.1", [])


@pytest.mark.parametrize("bind", ["192.168.1.5", "0.0.0.0", "::", "fd00::5"])
def test_a_bind_beyond_loopback_without_an_allow_list_is_refused_naming_both_keys(bind):
    with pytest.raises(ConfigError) as err:
        parse_config({"api": {"bind": bind}}, env={})
    assert str(err.value).startswith(f"[api] bind = {bind} needs [api] allow = [...]: the addresses allowed to connect")


def test_a_lan_bind_with_an_allow_list_is_accepted_and_a_loopback_one_needs_none():
    api = parse_config({"api": {"bind": "192.168.1.5", "allow": ["192.168.1.0/24", "10.0.0.7"]}}, env={}).api
    assert (api.bind, api.allow) == ("192.168.1.5", ["192.168.1.0/24", "10.0.0.7"])
    assert parse_config({"api": {"bind": "::1"}}, env={}).api.bind == "::1"
    assert parse_config({"api": {"enabled": False, "bind": "0.0.0.0"}}, env={}).api.bind == "0.0.0.0"  # nothing listens


def test_a_bind_that_is_not_an_ip_address_is_refused_naming_it():
    with pytest.raises(ConfigError, match=r"api.bind = 'my-laptop' is not allowed: expected an IP address"):
        parse_config({"api": {"bind": "my-laptop"}}, env={})


def test_a_bad_network_in_the_allow_list_is_named():
    with pytest.raises(ConfigError, match=r"api.allow = .* \('10.0.0.0/33' is neither\)"):
        parse_config({"api": {"bind": "0.0.0.0", "allow": ["10.0.0.1", "10.0.0.0/33"]}}, env={})


def test_bind_and_allow_come_from_the_environment_as_a_comma_separated_list():
    env = {"WATCHKEEPER_API_BIND": "0.0.0.0", "WATCHKEEPER_API_ALLOW": "10.0.0.1, 192.168.0.0/16"}
    config = parse_config({}, env=env)
    assert (config.api.bind, config.api.allow) == ("0.0.0.0", ["10.0.0.1", "192.168.0.0/16"])
    assert config.origins["api.allow"] == "env WATCHKEEPER_API_ALLOW"
    with pytest.raises(ConfigError, match=r"\[api\] bind = 0.0.0.0 needs \[api\] allow"):
        parse_config({}, env={"WATCHKEEPER_API_BIND": "0.0.0.0"})
