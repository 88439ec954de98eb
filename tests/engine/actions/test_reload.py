"""Reloading the settings of a real started Engine from its config.toml: what changes live, what
needs a restart, and an invalid file keeping the last good settings (health DEGRADED)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest

from engine import config_watch
from engine.actions.errors import Invalid
from engine.actions.reload import reload_settings
from engine.compose import load_config
from engine.engine import Engine
from engine.health import Health
from engine.units import UNITS

BASE = """
[api]
enabled = false
[archive]
enabled = false
[toast]
enabled = false
[checks.disk_space]
enabled = false
[checks.endpoint]
enabled = false
[checks.listening_ports]
enabled = false
"""
USER_CHECK = f"""
[[user_checks]]
name = "newcheck"
kind = "command"
command = [{json.dumps(sys.executable)}, "-c", "pass"]
schedule = "every 1h"
"""


@pytest.fixture
def engine(wk_home, monkeypatch) -> Iterator[Engine]:
    monkeypatch.setattr(config_watch, "POLL_SECONDS", 3600.0)  # only explicit reloads here
    wk_home.config_file.write_text(BASE)
    eng = Engine(wk_home, load_config(wk_home.config_file, UNITS), UNITS)
    eng.start()
    yield eng
    eng.stop("test")


def test_a_new_check_is_registered_and_runnable_and_quiet_hours_apply(engine, wk_home):
    wk_home.config_file.write_text(BASE + '[alerts]\nquiet_hours_start = "22:00"\nquiet_hours_end = "07:00"\n'
                                   + USER_CHECK)
    result = reload_settings(engine)
    assert result.changed == ["alerts.quiet_hours_end", "alerts.quiet_hours_start", "user_checks.newcheck"]
    assert result.needs_restart == []
    assert "newcheck" in engine.scheduler.specs and engine.scheduler.next_run("newcheck") is not None
    assert engine.checks.run("newcheck", "manual").outcome == "ok"
    assert engine.checks.dispatcher.quiet is not None


def test_a_removed_check_is_gone_and_a_changed_schedule_takes_effect(engine, wk_home):
    wk_home.config_file.write_text(BASE + USER_CHECK)
    reload_settings(engine)
    wk_home.config_file.write_text(BASE + '[checks.goal_staleness]\nschedule = "every 2h"\n')
    result = reload_settings(engine)
    assert result.changed == ["checks.goal_staleness", "user_checks.newcheck"]
    assert "newcheck" not in engine.scheduler.specs and "newcheck" not in engine.checks.definitions
    assert engine.scheduler.specs["goal_staleness"].schedule.text == "every 2h"
    assert "newcheck" not in [j.name for j in engine.snapshot().jobs]


def test_an_unchanged_job_keeps_its_next_run(engine, wk_home):
    before = engine.scheduler.next_run("stale_applications")
    wk_home.config_file.write_text(BASE + '[checks.goal_staleness]\ncooldown = "1d"\n')
    assert reload_settings(engine).changed == ["checks.goal_staleness"]
    assert engine.scheduler.next_run("stale_applications") == before
    assert engine.checks.get("goal_staleness").cooldown == "1d"


def test_api_port_and_timezone_need_a_restart_and_keep_their_running_values(engine, wk_home):
    wk_home.config_file.write_text(BASE.replace("enabled = false\n[archive]", "enabled = false\nport = 9999\n[archive]")
                                   + '[general]\ntimezone = "Europe/Berlin"\n')
    result = reload_settings(engine)
    assert result.needs_restart == ["api.port", "general.timezone"]
    assert "needs a restart: api.port, general.timezone" in result.text
    assert engine.config.api.port == 8765 and engine.config.general.timezone == ""


def test_channel_settings_rebuild_the_delivery_service(engine, wk_home):
    old = engine.delivery
    wk_home.config_file.write_text(BASE + '[delivery]\nmax_backoff_seconds = 30\n')
    assert reload_settings(engine).changed == ["delivery.max_backoff_seconds"]
    assert engine.delivery is not old and engine.delivery in engine.services
    assert engine.delivery.config.delivery.max_backoff_seconds == 30


def test_an_invalid_file_keeps_the_last_good_settings_and_degrades_health_until_fixed(engine, wk_home):
    wk_home.config_file.write_text(BASE + '[heartbeat]\ninterval_seconds = "often"\n' + USER_CHECK)
    with pytest.raises(Invalid, match="heartbeat.interval_seconds = 'often' is not allowed"):
        reload_settings(engine)
    health = engine.snapshot().health
    assert health.state == Health.DEGRADED
    assert any(r.startswith("config.toml invalid: heartbeat.interval_seconds") and
               r.endswith("running with the last good settings") for r in health.reasons)
    assert "newcheck" not in engine.checks.definitions
    wk_home.config_file.write_text(BASE + USER_CHECK)
    assert reload_settings(engine).changed == ["user_checks.newcheck"]
    assert not any(r.startswith("config.toml invalid") for r in engine.snapshot().health.reasons)


def test_a_new_away_after_applies_to_presence_without_a_restart(engine, wk_home):
    assert engine.presence.away_after == 600.0
    wk_home.config_file.write_text(BASE + '[delivery]\nrouting = "presence"\naway_after = "90s"\n')
    result = reload_settings(engine)
    assert result.changed == ["delivery.away_after", "delivery.routing"]
    assert result.needs_restart == []
    assert engine.presence.away_after == 90.0
