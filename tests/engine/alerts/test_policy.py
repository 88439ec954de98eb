"""The rate-limit decision as a pure function with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.alerts.policy import (
    DecisionAction,
    PolicyInput,
    QuietHours,
    clock_back_anchor,
    decide,
    long_duration,
    spaced_duration,
)

SENT, SUPPRESSED, DEFERRED = DecisionAction.SENT, DecisionAction.SUPPRESSED, DecisionAction.DEFERRED
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


# -- the clock moved back -------------------------------------------------------------------

HOUR = timedelta(hours=1)


@pytest.mark.parametrize("back", [HOUR, DAY])
def test_suppresses_when_last_sent_is_in_the_future(back):
    # sent five minutes before the clock was set back by ``back``
    decision = decide(inp(last_sent=NOW + back - timedelta(minutes=5)))
    assert decision.action == SUPPRESSED and decision.reason.startswith("clock moved back")


def test_clock_back_reason_names_the_future_time_and_the_real_time_so_far():
    decision = decide(inp(last_sent=NOW + DAY, clock_back_since=NOW - 3 * HOUR))
    assert decision.text == (
        "SUPPRESSED (clock moved back: last notified 2026-02-23 14:30 UTC is in the future; suppressed until "
        "24h have passed since 2026-02-22 11:30 UTC, 3h so far)")


def test_clock_back_suppresses_until_the_cooldown_passed_in_real_time():
    sent = NOW + 20 * HOUR
    assert decide(inp(last_sent=sent, clock_back_since=NOW - DAY + timedelta(seconds=1))).action == SUPPRESSED
    decision = decide(inp(last_sent=sent, clock_back_since=NOW - DAY))
    assert decision.text == "SENT (cooldown of 24h elapsed since the clock moved back)"


def test_clock_back_keeps_counting_when_the_wall_clock_passes_the_old_sent_time():
    # sent an hour ago by the wall clock, but the clock had been set back a day after it: the jump was
    # noticed 23 h ago, so 23 h of real time passed (not 1 h), and at 24 h the cooldown is over
    sent = NOW - HOUR
    decision = decide(inp(last_sent=sent, clock_back_since=NOW - 23 * HOUR))
    assert decision.action == SUPPRESSED and "was in the future" in decision.reason
    assert decide(inp(last_sent=sent, clock_back_since=NOW - DAY)).action == SENT


def test_time_in_heartbeat_gaps_since_the_anchor_is_not_counted():
    # sent 2 h ago; an hour later the clock was set back a day (noticed then); an hour after that it
    # was corrected forward, which the heartbeat saw as a 24 h gap: 1 h of real time has passed
    decision = decide(inp(last_sent=NOW - 2 * HOUR, clock_back_since=NOW - 25 * HOUR, clock_back_unseen=DAY))
    assert decision.action == SUPPRESSED and decision.reason.endswith("1h so far")


def test_second_jump_back_restarts_the_real_time_count():
    decision = decide(inp(last_sent=NOW + DAY, clock_back_since=NOW + 12 * HOUR))
    assert decision.action == SUPPRESSED and decision.reason.endswith("since 2026-02-22 14:30 UTC, 0s so far")


def test_clock_back_anchor_is_kept_for_its_last_sent_across_runs():
    sent = NOW + DAY
    noticed = NOW - 3 * HOUR
    assert clock_back_anchor(None, NOW, None) is None
    assert clock_back_anchor(NOW - HOUR, NOW, None) is None  # an ordinary past SENT
    assert clock_back_anchor(sent, NOW, None) == NOW  # first noticed now
    assert clock_back_anchor(sent, NOW, (sent, noticed)) == noticed  # kept (also across restarts)
    assert clock_back_anchor(sent, NOW, (sent, NOW + HOUR)) == NOW  # the anchor in the future: a second jump
    assert clock_back_anchor(sent, NOW, (sent - DAY, noticed)) == NOW  # kept for another SENT: not this one
    assert clock_back_anchor(NOW - HOUR, NOW, (NOW - HOUR, noticed)) == noticed  # wall clock passed the SENT


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
