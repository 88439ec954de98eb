"""Presence-aware routing: which channels get a notification now, which wait, which are skipped.

Pure decisions, no clock and no database: :func:`route` decides at enqueue time from the routing
setting, the person's presence, the notification's severity and kind and each channel's reach
("desk": seen only at this machine, like a toast; "away": reaches the person anywhere, like
Telegram). :func:`release` decides later what becomes of a held row. Both return the text recorded
with the delivery (the outbox row's ``route``), so people can see why a message went where it went.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from engine.presence import Presence, PresenceState
from engine.timeutil import spaced_duration
from engine.vocabulary import NotificationKind, Severity

BOTH = "both"
PRESENCE = "presence"
DESK = "desk"
AWAY = "away"


class Action(StrEnum):
    """What becomes of one channel's copy of a notification."""

    SEND = "send"  # pending now
    HOLD_RETURN = "return"  # held until the person is back at this machine (a desk channel)
    HOLD_ESCALATE = "escalate"  # held until escalate_after passed while the person went away (an away channel)
    SKIP = "skip"  # never sent here (the reason is the route text)


class Release(StrEnum):
    """What becomes of a held row when it is looked at again."""

    KEEP = "keep"
    SEND = "send"
    SKIP = "skip"


@dataclass(frozen=True)
class ChannelReach:
    """A channel as routing sees it: its name and where it reaches the person (desk | away)."""

    name: str
    reach: str


@dataclass(frozen=True)
class Plan:
    """The decision for one notification: per channel an action and the text recorded with it."""

    actions: dict[str, Action]
    texts: dict[str, str]


def _names(channels: Sequence[ChannelReach], reach: str) -> str:
    return ", ".join(c.name for c in channels if c.reach == reach) or "none"


def route(routing: str, presence: PresenceState, severity: str, kind: str, has_alerts: bool,
          channels: Sequence[ChannelReach], escalate_after: float,
          notified: Collection[str] = ()) -> Plan:
    """Per channel what to do with a new notification, and why.

    ``notified`` (recoveries only): the channels that delivered (or will deliver) the alert, so an
    away channel gets a recovery only for an alert it showed.
    """
    names = [c.name for c in channels]

    def every(text: str) -> Plan:
        return Plan({n: Action.SEND for n in names}, {n: text for n in names})

    if routing != PRESENCE:
        return every(BOTH)
    if not has_alerts:
        return every("every channel (not about an alert)")
    if severity == Severity.CRITICAL:
        return every("critical: every channel")
    if presence.presence == Presence.UNKNOWN:
        return every(f"presence unknown ({presence.reason}): every channel")
    here = presence.presence == Presence.PRESENT
    head = f"{presence.presence} ({presence.reason})"
    actions: dict[str, Action] = {}
    texts: dict[str, str] = {}
    recovery = kind == NotificationKind.RECOVERY
    for channel in channels:
        desk = channel.reach == DESK
        if recovery and not desk and channel.name not in notified:
            actions[channel.name], texts[channel.name] = Action.SKIP, f"{head}: the alert was only shown here"
        elif recovery and desk and not here:
            actions[channel.name], texts[channel.name] = Action.SKIP, f"{head}: resolved while you were away"
        elif recovery or desk == here:
            actions[channel.name], texts[channel.name] = Action.SEND, f"{head}: {channel.name} now"
        elif here:
            actions[channel.name] = Action.HOLD_ESCALATE
            texts[channel.name] = (f"{head}: {_names(channels, DESK)}; {channel.name} if not acknowledged "
                                   f"after {spaced_duration(timedelta(seconds=escalate_after))} away")
        else:
            actions[channel.name] = Action.HOLD_RETURN
            texts[channel.name] = f"{head}: {_names(channels, AWAY)}; {channel.name} on return"
    return Plan(actions, texts)


def release(routing: str, hold: str, presence: PresenceState, held_seconds: float, escalate_after: float,
            still_open: bool) -> tuple[Release, str | None]:
    """What to do with a held row now: keep it, send it (with the new route text) or skip it (why).

    ``held_seconds``: since the notification was made; ``still_open``: at least one of its alerts
    is open and unacknowledged (not acknowledged, snoozed or resolved).
    """
    if not still_open:
        if hold == Action.HOLD_RETURN:
            return Release.SKIP, "skipped: resolved or acknowledged while you were away"
        return Release.SKIP, "skipped: resolved or acknowledged before escalation"
    if routing != PRESENCE:
        return Release.SEND, "released: routing is now both"
    if hold == Action.HOLD_RETURN:
        if presence.presence == Presence.AWAY:
            return Release.KEEP, None
        return Release.SEND, f"back ({presence.reason}): still open"
    if presence.presence == Presence.PRESENT or held_seconds < escalate_after:
        return Release.KEEP, None
    return Release.SEND, (f"escalated: {presence.presence} and not acknowledged after "
                          f"{spaced_duration(timedelta(seconds=escalate_after))}")
