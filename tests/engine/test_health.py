"""Health folds everything into one state; degraded outranks paused outranks attention."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.health import Health, HealthFacts, assess

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def facts(**kw) -> HealthFacts:
    base = dict(started=True, now=NOW, last_beat=NOW - timedelta(seconds=30), beat_interval=60)
    base.update(kw)
    return HealthFacts(**base)


def test_starting_before_start():
    assert assess(facts(started=False)).state is Health.STARTING


def test_ok_when_nothing_is_wrong():
    report = assess(facts())
    assert report.state is Health.OK and report.summary == "OK"


def test_degraded_when_no_channel_can_deliver_even_while_paused():
    report = assess(facts(can_deliver=False, paused_until=NOW + timedelta(hours=1), open_alerts=1))
    assert report.state is Health.DEGRADED and report.reasons == ["no channel can deliver alerts"]


def test_open_alerts_need_attention():
    assert assess(facts(open_alerts=2)).summary == "ATTENTION: 2 open alert(s)"


def test_stale_heartbeat_failing_job_or_broken_channel_degrade():
    assert assess(facts(last_beat=NOW - timedelta(minutes=4))).reasons == ["heartbeat stale"]
    assert assess(facts(failing_jobs=["archive"])).reasons == ["job archive failing"]
    report = assess(facts(broken_channels=["telegram"], open_alerts=3, paused_until=NOW + timedelta(hours=1)))
    assert report.state is Health.DEGRADED and report.reasons == ["channel telegram broken"]


def test_pause_and_quiet_hours_show_paused_over_attention():
    assert assess(facts(open_alerts=1, paused_until=NOW + timedelta(hours=1))).state is Health.PAUSED
    assert assess(facts(open_alerts=1, quiet_hours=True)).reasons == ["quiet hours"]
