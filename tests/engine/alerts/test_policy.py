"""The rate-limit decision as a pure function with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.alerts.policy import (
    DEFERRED,
    SENT,
    SUPPRESSED,
    PolicyInput,
    QuietHours,
    decide,
    long_duration,
    spaced_duration,
)

NOW = datetime(2026, 2, 22, 14, 30, tzinfo=timezone.utc)
DAY = timedelta(hours=24)


def inp(**kw) -> PolicyInput:
    base = dict(check_name="stale_applications", cooldown=DAY, last_sent=None, now=NOW, severity="warning")
    base.update(kw)
    return PolicyInput(**base)


def test_first_notification_is_sent():
    assert decide(inp()).action == SENT


def test_seed_example_is_suppressed_with_its_explanation():
    decision = decide(inp(last_sent=datetime(2026, 2, 22, 10, 15, tzinfo=timezone.utc)))
    assert decision.text == "SUPPRESSED (4h 15m into 24h cooldown)"


@pytest.mark.parametrize(("elapsed", "action"), [
    (DAY - timedelta(seconds=1), SUPPRESSED),  # just inside
    (DAY, SENT),                               # exactly at: the window is over
    (DAY + timedelta(seconds=1), SENT),        # just after
])
def test_cooldown_boundaries(elapsed, action):
    assert decide(inp(last_sent=NOW - elapsed)).action == action


def test_per_check_cooldown_is_used():
    last = NOW - timedelta(hours=2)
    assert decide(inp(cooldown=timedelta(hours=1), last_sent=last)).action == SENT
    assert decide(inp(cooldown=timedelta(days=7), last_sent=last)).text == "SUPPRESSED (2h into 7d cooldown)"


def test_pause_suppresses_with_reason_paused_even_after_cooldown():
    decision = decide(inp(paused_until=NOW + timedelta(hours=2), last_sent=NOW - 2 * DAY))
    assert decision.action == SUPPRESSED and decision.reason.startswith("paused until")
    assert decide(inp(paused_until=NOW)).action == SENT  # pause over exactly now


BERLIN = ZoneInfo("Europe/Berlin")
QUIET = QuietHours.from_config("22:00", "07:00", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BERLIN)


def at_local(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


def test_quiet_hours_defer_non_critical_until_the_window_ends():
    decision = decide(inp(now=at_local(23), quiet=QUIET))
    assert decision.action == DEFERRED and decision.reason == "quiet hours until 07:00"
    assert decide(inp(now=at_local(6, 59, day=23), quiet=QUIET)).action == DEFERRED  # after midnight
    assert decide(inp(now=at_local(7, 0, day=23), quiet=QUIET)).action == SENT
    assert decide(inp(now=at_local(21, 59), quiet=QUIET)).action == SENT


def test_critical_goes_through_quiet_hours():
    assert decide(inp(now=at_local(23), quiet=QUIET, severity="critical")).action == SENT


def test_quiet_hours_only_on_configured_weekdays():
    weekdays_only = QuietHours.from_config("22:00", "07:00", ["mon", "tue", "wed", "thu", "fri"], BERLIN)
    # 2026-02-22 is a Sunday: the window that starts Sunday night is not quiet
    assert weekdays_only.window_end(at_local(23)) is None
    # ...but Friday night's window still covers early Saturday
    assert weekdays_only.window_end(at_local(3, day=21)) is not None


def test_daytime_window_and_disabled_quiet_hours():
    lunch = QuietHours.from_config("12:00", "13:00", ["sun"], BERLIN)
    assert lunch.window_end(at_local(12, 30)) is not None
    assert lunch.window_end(at_local(13, 0)) is None
    assert QuietHours.from_config("", "", [], BERLIN) is None


def test_duration_wording():
    assert long_duration(DAY) == "24 hours"
    assert long_duration(timedelta(days=7)) == "7 days"
    assert long_duration(timedelta(minutes=90)) == "1 hour 30 minutes"
    assert spaced_duration(timedelta(hours=3, minutes=12)) == "3 h 12 min"
