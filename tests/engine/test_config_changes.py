"""What changed between two configs, and what only a restart applies (pure)."""

from __future__ import annotations

from engine.config_changes import diff, keep_restart_only
from tests.helpers import parse_config


def test_same_config_has_no_changes():
    assert not diff(parse_config({}, env={}), parse_config({}, env={}))


def test_changes_are_named_by_key_and_restart_only_ones_set_apart():
    old = parse_config({"api": {"port": 8000}}, env={})
    new = parse_config({"api": {"port": 8001}, "alerts": {"quiet_hours_start": "22:00"},
                        "telegram": {"token": "123456:SECRET-abcdefghijklmnopqrstu"},
                        "checks": {"disk_space": {"enabled": False}},
                        "user_checks": [{"name": "mine", "kind": "sql"}]}, env={})
    changes = diff(old, new)
    assert changes.changed == ["alerts.quiet_hours_start", "checks.disk_space", "telegram.token", "user_checks.mine"]
    assert changes.needs_restart == ["api.port"]
    assert "SECRET" not in repr(changes)
    assert changes.touches("telegram.") and not changes.touches("delivery.")


def test_the_running_config_keeps_its_restart_only_values():
    running = keep_restart_only(parse_config({"api": {"port": 8000}}, env={}),
                                parse_config({"api": {"port": 8001}, "weekly": {"keep_backups": 9}}, env={}))
    assert running.api.port == 8000 and running.weekly.keep_backups == 9
