"""engine.actions.instance: status, pause / resume and their duration limits, the redacted config."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import runtime_state
from engine.actions import delivery, events, instance
from engine.actions.errors import Conflict, Invalid, NotFound
from engine.actions.target import Offline
from engine.engine import Engine
from engine.timeutil import MAX_DURATION, utcnow
from engine.units import UNITS
from tests.helpers import parse_config

NOW = utcnow().replace(microsecond=0)


def test_pause_for_a_duration_then_resume(engine):
    paused = instance.pause(engine, "1h")
    assert paused.paused_until is not None and engine.snapshot().paused_until == paused.paused_until
    assert paused.to_dict()["paused_until"]
    assert instance.resume(engine).to_dict() == {"paused_until": None}
    assert engine.snapshot().paused_until is None


@pytest.mark.parametrize(("length", "message"), [
    ("soon", "soon"), ("0s", "must be positive"), ("-1h", "not a duration"), ("99999999999d", "too long"),
    ("1e400s", "not a duration"), (timedelta(0), "must be positive"), (MAX_DURATION + timedelta(seconds=1), "too long"),
])
def test_pause_refuses_durations_outside_the_limits(offline, length, message):
    with pytest.raises(Invalid, match=message):
        instance.pause(offline, length)
    assert runtime_state.paused_until(offline.db, NOW) is None  # nothing paused


def test_status_of_the_running_instance_and_when_stopped(engine, wk_home, db):
    data = instance.status(engine).to_dict()
    # both channels are off in this configuration: nothing can deliver, and health says so
    assert data["state"] == "degraded" and data["reasons"] == ["no channel can deliver alerts"]
    assert data["pid"] == engine.snapshot().pid
    assert data["alerts"] == {"attention": 0, "acknowledged": 0, "snoozed": 0}
    stopped = instance.stopped_status(Offline(db, engine.config, UNITS)).to_dict()
    assert stopped["channels"] == [c.to_dict() for c in delivery.channels(engine)]
    assert {c["name"]: c["state"] for c in stopped["channels"]} == {"toast": "disabled", "telegram": "disabled"}
    assert stopped["problems"] == ["no channel can deliver alerts"]
    assert stopped["alerts"] == {"attention": 0, "acknowledged": 0, "snoozed": 0}


def test_a_stopped_engine_is_a_conflict_not_a_crash(wk_home):
    eng = Engine(wk_home, parse_config({"telegram": {"token": "123:SECRET", "enabled": False}}, env={}), UNITS)
    with pytest.raises(Conflict, match="^the instance is not running$"):
        instance.pause(eng, "1h")
    assert instance.redacted_config(eng)["telegram"]["token"] == "<set>"
    assert "SECRET" not in str(instance.redacted_config(eng))


def test_channels_outbox_and_events(engine, offline):
    from engine.events import record_event

    assert [c.state for c in delivery.channels(engine)] == ["disabled", "disabled"]  # both off here
    assert delivery.channels(offline) == delivery.channels(engine)
    with pytest.raises(NotFound, match="^no enabled channel named 'telegram'; enabled: none$"):
        delivery.send_test_message(engine, "telegram")
    record_event(offline.db, ts=NOW, source="disk_space", kind="check_error", detail={"error": "x"})
    record_event(offline.db, ts=NOW, source="endpoint", kind="alert_opened")
    assert events.events(offline, kind="check_error").items[0]["detail"] == {"error": "x"}
    assert events.events(offline).total == 2
    assert delivery.outbox(offline).to_dict() == {"items": [], "total": 0, "limit": 100, "offset": 0}


@pytest.mark.parametrize("length", ["31d", timedelta(days=30, seconds=1), "36500d"])
def test_pause_longer_than_thirty_days_is_refused_naming_the_maximum(offline, length):
    with pytest.raises(Invalid, match="pause too long: .*at most 30 days"):
        instance.pause(offline, length)
    assert runtime_state.paused_until(offline.db, NOW) is None


def test_pause_until_more_than_thirty_days_ahead_is_refused(offline):
    with pytest.raises(Invalid, match="at most 30 days from now"):
        instance.pause_until(offline, offline.now() + instance.MAX_PAUSE + timedelta(minutes=1))
    assert instance.pause(offline, "30d").paused_until is not None  # the maximum itself is fine
