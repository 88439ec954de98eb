"""Config: defaults in code, a commented template, clear errors, unknown keys warned about."""

from __future__ import annotations

import tomllib

import pytest

from engine.config import (
    Config,
    ConfigError,
    ensure_config_file,
    load_config,
    parse_config,
    redacted,
    render_template,
)

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def test_empty_config_gives_defaults():
    config = parse_config({}, env={})
    assert config.heartbeat.interval_seconds == 60
    assert config.scheduler.misfire_grace_seconds == 3600
    assert config.warnings == []


def test_template_is_valid_toml_and_every_setting_is_commented_out(tmp_path):
    path = tmp_path / "config.toml"
    assert ensure_config_file(path) is True
    assert ensure_config_file(path) is False  # never overwritten
    text = path.read_text()
    assert tomllib.loads(text) == {name: {} for name in tomllib.loads(text)}
    assert "# interval_seconds = 60" in text
    assert "# [checks.stale_applications]" in render_template()
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
