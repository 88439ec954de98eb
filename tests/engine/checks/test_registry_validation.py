"""Config validation of user checks (sql, command) and of the system check kinds' parameters."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.checks.base import Param
from engine.checks.command import CommandCheck
from engine.checks.registry import build_definitions
from engine.checks.sql import SqlCheck
from engine.config import ConfigError
from engine.schedule_spec import parse_schedule
from engine.timeutil import parse_duration
from engine.units import CHECK_KINDS
from tests.helpers import parse_config

SQL = {"name": "overdue", "kind": "sql", "database": "/data/finance.db",
       "query": "SELECT id, 'Invoice ' || id || ' overdue' FROM invoices WHERE due < date('now')"}
COMMAND = {"name": "backup_fresh", "kind": "command", "command": ["python", "check_backup.py"]}


def _build(raw: dict):
    return build_definitions(parse_config(raw, env={}), CHECK_KINDS)


def _error(raw: dict) -> str:
    with pytest.raises(ConfigError) as info:
        _build(raw)
    return str(info.value)


def test_valid_user_checks_are_accepted_with_their_settings():
    sql = {**SQL, "schedule": "every 6h", "cooldown": "1d", "timeout_seconds": 5}
    command = {**COMMAND, "timeout_seconds": 12.5, "cwd": "/tmp", "severity": "critical"}
    definitions, warnings = _build({"user_checks": [sql, command]})
    by_name = {d.name: d for d in definitions}
    assert warnings == []
    assert by_name["overdue"].kind is SqlCheck
    assert by_name["overdue"].schedule == "every 6h"
    assert by_name["overdue"].params == {"database": SQL["database"], "query": SQL["query"],
                                         "timeout_seconds": 5}
    assert by_name["backup_fresh"].kind is CommandCheck
    assert by_name["backup_fresh"].severity == "critical"
    assert by_name["backup_fresh"].params["command"] == ["python", "check_backup.py"]


def test_user_check_defaults_come_from_the_kind():
    definitions, _ = _build({"user_checks": [COMMAND]})
    (command,) = [d for d in definitions if d.name == "backup_fresh"]
    assert (command.schedule, command.cooldown, command.severity) == ("every 1h", "24h", "warning")
    assert command.params["timeout_seconds"] == 30.0 and command.params["cwd"] == ""


def test_unknown_key_in_a_user_check_is_a_warning_naming_it():
    _, warnings = _build({"user_checks": [{**SQL, "databse": "x.db"}]})
    assert any("user_checks[0].databse" in w for w in warnings)


@pytest.mark.parametrize(("entry", "key", "problem"), [
    ({k: v for k, v in SQL.items() if k != "query"}, "query", "missing required"),
    ({k: v for k, v in SQL.items() if k != "database"}, "database", "missing required"),
    ({**SQL, "query": "DELETE FROM invoices"}, "query", "SELECT or WITH"),
    ({**SQL, "query": "SELECT 1; DROP TABLE invoices"}, "query", "a single statement"),
    ({**SQL, "query": "SELECT 'open"}, "query", "complete statement"),
    ({**SQL, "database": ""}, "database", "path of a SQLite file"),
    ({**SQL, "timeout_seconds": 0}, "timeout_seconds", "greater than 0"),
    ({**COMMAND, "command": "python check_backup.py"}, "command", "non-empty list of strings"),
    ({**COMMAND, "command": []}, "command", "non-empty list of strings"),
    ({**COMMAND, "command": ["python", 3]}, "command", "non-empty list of strings"),
    ({k: v for k, v in COMMAND.items() if k != "command"}, "command", "missing required"),
    ({**COMMAND, "timeout_seconds": "30"}, "timeout_seconds", "expected float"),
    ({**COMMAND, "kind": "shell"}, "kind", "expected one of 'sql', 'command'"),
    ({**COMMAND, "name": "Backup-Fresh"}, "name", "lower-case letters"),
    ({**COMMAND, "name": "disk_space"}, "name", "already used"),
    ({**COMMAND, "schedule": "sometimes"}, "schedule", "not allowed"),
])
def test_invalid_user_check_names_the_key_and_the_problem(entry, key, problem):
    message = _error({"user_checks": [entry]})
    assert message.startswith("user_checks[0]")
    assert key in message
    assert problem in message


def test_duplicate_user_check_name_is_rejected():
    message = _error({"user_checks": [COMMAND, {**SQL, "name": COMMAND["name"]}]})
    assert "user_checks[1].name = 'backup_fresh'" in message and "already used" in message


@pytest.mark.parametrize(("check", "settings", "key", "problem"), [
    ("endpoint", {"urls": ["https://ok.test/", "ftp://files.test/"]}, "urls", "http:// or https://"),
    ("endpoint", {"urls": "https://ok.test/"}, "urls", "expected list"),
    ("endpoint", {"max_status": 700}, "max_status", "HTTP status"),
    ("endpoint", {"timeout_seconds": -1}, "timeout_seconds", "greater than 0"),
    ("disk_space", {"min_free_percent": 150}, "min_free_percent", "percentage"),
    ("disk_space", {"volumes": [1, 2]}, "volumes", "folder paths"),
    ("listening_ports", {"allowed_ports": [80, 70000]}, "allowed_ports", "port numbers"),
])
def test_invalid_system_check_settings_name_the_key(check, settings, key, problem):
    message = _error({"checks": {check: settings}})
    assert message.startswith(f"checks.{check}")
    assert key in message and problem in message


def test_valid_system_check_settings_are_applied():
    raw = {"checks": {
        "endpoint": {"urls": ["https://example.com/health"], "cert_expiry_days": 30},
        "disk_space": {"volumes": ["/", "/home"], "min_free_gb": 5},
        "listening_ports": {"allowed_ports": [22, 8765], "enabled": False},
    }}
    definitions, warnings = _build(raw)
    by_name = {d.name: d for d in definitions}
    assert warnings == []
    assert by_name["endpoint"].params["cert_expiry_days"] == 30
    assert by_name["endpoint"].params["timeout_seconds"] == 10.0
    assert by_name["disk_space"].params["volumes"] == ["/", "/home"]
    assert by_name["listening_ports"].enabled is False


@pytest.mark.parametrize(("check", "settings", "message"), [
    ("disk_space", {"cooldown": "99999999999d"},
     "checks.disk_space.cooldown = '99999999999d' is not allowed: expected a duration from 1s to 365d"),
    ("disk_space", {"cooldown": "400d"},
     "checks.disk_space.cooldown = '400d' is not allowed: expected a duration from 1s to 365d"),
    ("disk_space", {"cooldown": float("inf")},
     "checks.disk_space.cooldown = inf is not allowed: expected a duration from 1s to 365d, such as 30m, 2h or 1d"),
    ("disk_space", {"schedule": "every 0.001s"},
     "checks.disk_space.schedule = 'every 0.001s' is not allowed: expected \"every DURATION\" with a duration "
     "from 1s to 365d"),
    ("endpoint", {"timeout_seconds": float("inf")},
     "checks.endpoint.timeout_seconds = inf is not allowed: expected a number of seconds greater than 0 and "
     "at most 86400"),
    ("endpoint", {"cert_expiry_days": 10**30},
     f"checks.endpoint.cert_expiry_days = {10**30} is not allowed: expected a whole number of days from 0 to 3650"),
    ("disk_space", {"min_free_percent": float("nan")},
     "checks.disk_space.min_free_percent = nan is not allowed: expected a percentage from 0 to 100"),
    ("stale_applications", {"days": 10**30},
     f"checks.stale_applications.days = {10**30} is not allowed: expected a number of days greater than 0 and "
     "at most 3650"),
    ("goal_staleness", {"days": 0}, "checks.goal_staleness.days = 0 is not allowed: expected a number of days "
     "greater than 0 and at most 3650"),
    ("session_crash", {"minutes": float("inf")}, "checks.session_crash.minutes = inf is not allowed: expected a "
     "number of minutes greater than 0 and at most 525600"),
])
def test_check_values_that_would_spin_overflow_or_never_end_are_refused_with_the_range(check, settings, message):
    assert _error({"checks": {check: settings}}) == message


@pytest.mark.parametrize("entry", [{**COMMAND, "timeout_seconds": float("inf")},
                                   {**SQL, "timeout_seconds": float("inf")},
                                   {**COMMAND, "timeout_seconds": 86401}])
def test_user_check_timeouts_are_at_most_a_day(entry):
    assert _error({"user_checks": [entry]}).startswith(
        f"user_checks[0].timeout_seconds = {entry['timeout_seconds']!r} is not allowed: expected a number of seconds "
        "greater than 0 and at most 86400")


def test_a_non_finite_number_is_refused_even_where_a_check_has_no_range():
    class Free(CommandCheck):
        params = {"weight": Param(1.0, "no validator of its own"), "weights": Param([1.0], "a list")}

    assert Free.validate_params({"weight": float("inf"), "weights": [1.0, float("nan")]}) == [
        "weight = inf is not allowed: expected a finite number",
        "weights = [1.0, nan] is not allowed: expected a finite number",
    ]


_VALUES = st.one_of(st.integers(min_value=-(10**40), max_value=10**40), st.floats(), st.booleans(),
                    st.text(max_size=20), st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=10)),
                                                   max_size=3),
                    st.sampled_from(["every 0.001s", "every 1s", "99999999999d", "cron 0 0 31 2 *", "1d"]))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CHECK_KINDS.builtin_by_name())), st.dictionaries(
    st.sampled_from(["enabled", "schedule", "cooldown", "severity", "urls", "timeout_seconds", "cert_expiry_days",
                     "max_status", "min_free_percent", "min_free_gb", "volumes", "days", "minutes",
                     "allowed_ports", "allowed", "include_system"]), _VALUES, max_size=4))
def test_any_check_setting_loads_or_is_a_config_error(check, settings):
    try:
        definitions, _ = _build({"checks": {check: settings}})
    except ConfigError:
        return
    (definition,) = [d for d in definitions if d.name == check]
    assert timedelta(seconds=1) <= parse_duration(definition.cooldown) <= timedelta(days=365)
    assert parse_schedule(definition.schedule).period >= timedelta(seconds=1)
    for value in definition.params.values():
        assert not isinstance(value, float) or math.isfinite(value)


def test_a_nul_character_in_a_path_or_command_is_refused_up_front():
    assert _error({"user_checks": [{**COMMAND, "command": ["ec\0ho"]}]}) == (
        "user_checks[0].command = ['ec\\x00ho'] is not allowed: expected text without NUL characters")
    assert "volumes" in _error({"checks": {"disk_space": {"volumes": ["/tmp\0x"]}}})


def test_unknown_severity_lists_the_allowed_ones_in_order():
    message = _error({"user_checks": [{**COMMAND, "severity": "urgent"}]})
    assert message.endswith("severity = 'urgent' is not allowed: expected one of info, warning, critical")
