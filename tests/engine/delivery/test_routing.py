"""Presence-aware routing decisions: pure, no threads, no clock."""

from __future__ import annotations

import pytest

from engine.delivery.routing import Action, ChannelReach, Release, release, route
from engine.presence import Presence, PresenceState

CHANNELS = [ChannelReach("telegram", "away"), ChannelReach("toast", "desk")]
PRESENT = PresenceState(Presence.PRESENT, "last input 3 s ago")
AWAY = PresenceState(Presence.AWAY, "idle for 14 min")
UNKNOWN = PresenceState(Presence.UNKNOWN, "no display")
ESCALATE = 300.0


def decide(presence, severity="warning", kind="alert", routing="presence", has_alerts=True, notified=()):
    return route(routing, presence, severity, kind, has_alerts, CHANNELS, ESCALATE, notified)


@pytest.mark.parametrize("presence", [PRESENT, AWAY, UNKNOWN])
def test_routing_both_sends_everything_now_whatever_the_presence(presence):
    plan = decide(presence, routing="both")
    assert plan.actions == {"telegram": Action.SEND, "toast": Action.SEND}
    assert set(plan.texts.values()) == {"both"}


def test_present_shows_the_toast_and_holds_telegram_for_escalation():
    plan = decide(PRESENT)
    assert plan.actions == {"toast": Action.SEND, "telegram": Action.HOLD_ESCALATE}
    assert plan.texts["telegram"] == ("present (last input 3 s ago): toast; telegram if not acknowledged "
                                      "after 5 min away")


def test_away_sends_telegram_and_holds_the_toast_for_the_return():
    plan = decide(AWAY)
    assert plan.actions == {"telegram": Action.SEND, "toast": Action.HOLD_RETURN}
    assert plan.texts["toast"] == "away (idle for 14 min): telegram; toast on return"


@pytest.mark.parametrize("presence", [PRESENT, AWAY])
def test_critical_goes_to_every_channel_now(presence):
    plan = decide(presence, severity="critical")
    assert plan.actions == {"telegram": Action.SEND, "toast": Action.SEND}
    assert plan.texts["toast"] == "critical: every channel"


def test_unknown_presence_goes_to_every_channel_and_says_why():
    plan = decide(UNKNOWN)
    assert plan.actions == {"telegram": Action.SEND, "toast": Action.SEND}
    assert plan.texts["telegram"] == "presence unknown (no display): every channel"


@pytest.mark.parametrize("presence", [PRESENT, AWAY])
def test_a_notification_without_alerts_goes_everywhere(presence):
    plan = decide(presence, kind="weekly", has_alerts=False)
    assert plan.actions == {"telegram": Action.SEND, "toast": Action.SEND}


def test_a_digest_is_routed_like_an_alert():
    assert decide(AWAY, kind="digest").actions == {"telegram": Action.SEND, "toast": Action.HOLD_RETURN}


def test_recovery_reaches_the_phone_only_when_the_phone_showed_the_alert():
    shown_here = decide(PRESENT, kind="recovery", severity="info")
    assert shown_here.actions == {"toast": Action.SEND, "telegram": Action.SKIP}
    assert shown_here.texts["telegram"].endswith("the alert was only shown here")
    escalated = decide(PRESENT, kind="recovery", severity="info", notified={"telegram", "toast"})
    assert escalated.actions == {"toast": Action.SEND, "telegram": Action.SEND}


def test_recovery_while_away_goes_to_the_phone_that_had_the_alert_and_no_toast_waits():
    plan = decide(AWAY, kind="recovery", severity="info", notified={"telegram"})
    assert plan.actions == {"telegram": Action.SEND, "toast": Action.SKIP}


def test_an_unknown_future_channel_counts_as_away_so_it_is_never_desk_only():
    from engine.channels.base import ChannelSpec

    spec = ChannelSpec(name="pager", title="Pager", enabled=lambda c: True, build=lambda c, x: None)  # type: ignore
    assert spec.reach == "away"
    plan = route("presence", AWAY, "warning", "alert", True, [ChannelReach("pager", spec.reach)], ESCALATE)
    assert plan.actions == {"pager": Action.SEND}


def test_builtin_channels_declare_their_reach():
    from engine.channels.telegram import SPEC as TELEGRAM
    from engine.channels.toast import SPEC as TOAST

    assert (TOAST.reach, TELEGRAM.reach) == ("desk", "away")


# -- release of held rows ----------------------------------------------------------------------


def test_held_toast_is_released_on_return_while_the_alert_is_open():
    verdict, text = release("presence", "return", PRESENT, 900, ESCALATE, still_open=True)
    assert verdict == Release.SEND and text == "back (last input 3 s ago): still open"


def test_held_toast_waits_while_the_person_is_away():
    assert release("presence", "return", AWAY, 9000, ESCALATE, still_open=True) == (Release.KEEP, None)


def test_held_toast_is_skipped_when_resolved_or_acknowledged_while_away():
    verdict, text = release("presence", "return", AWAY, 10, ESCALATE, still_open=False)
    assert verdict == Release.SKIP and "while you were away" in (text or "")


def test_escalates_after_escalate_after_once_the_person_is_away():
    verdict, text = release("presence", "escalate", AWAY, ESCALATE, ESCALATE, still_open=True)
    assert verdict == Release.SEND and text == "escalated: away and not acknowledged after 5 min"


def test_escalates_when_presence_becomes_unknown():
    assert release("presence", "escalate", UNKNOWN, 301, ESCALATE, still_open=True)[0] == Release.SEND


def test_does_not_escalate_before_escalate_after():
    assert release("presence", "escalate", AWAY, 299, ESCALATE, still_open=True) == (Release.KEEP, None)


def test_does_not_escalate_while_the_person_is_present():
    assert release("presence", "escalate", PRESENT, 9000, ESCALATE, still_open=True) == (Release.KEEP, None)


def test_escalation_is_dropped_once_no_alert_is_open_and_unacknowledged():
    verdict, text = release("presence", "escalate", AWAY, 9000, ESCALATE, still_open=False)
    assert verdict == Release.SKIP and text and text.startswith("skipped:")


def test_switching_routing_to_both_releases_what_is_still_open():
    assert release("both", "escalate", PRESENT, 1, ESCALATE, still_open=True)[0] == Release.SEND
    assert release("both", "return", AWAY, 1, ESCALATE, still_open=False)[0] == Release.SKIP
