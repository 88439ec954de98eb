"""The dashboard's pause choices: until tomorrow morning (08:00 in the user's zone) and a custom
value a person types, either a duration (``2h``, ``90m``) or a clock time (``18:30``: its next
occurrence in the user's zone). Parsing and validation live here, once, like instance.duration."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, tzinfo

from engine.actions.errors import Invalid
from engine.actions.instance import PauseState, pause_length, pause_until
from engine.actions.target import Target
from engine.timeutil import resolve_timezone

MORNING_HOUR = 8
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def user_zone(target: Target) -> tzinfo:
    """The zone the user reads times in ([general] timezone, else the machine's)."""
    return resolve_timezone(target.config.general.timezone)


def tomorrow_at(now: datetime, zone: tzinfo, hour: int = MORNING_HOUR) -> datetime:
    """The next calendar day's ``hour``:00 in ``zone`` (DST-aware), as an aware datetime. Pure."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def next_clock_time(now: datetime, hour: int, minute: int, zone: tzinfo) -> datetime:
    """The next ``hour:minute`` in ``zone`` after ``now`` (today if still ahead, else tomorrow). Pure."""
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    return today if today > local else datetime.combine(local.date() + timedelta(days=1), time(hour, minute),
                                                        tzinfo=zone)


def custom_until(now: datetime, text: str, zone: tzinfo) -> datetime:
    """When a custom pause typed as ``text`` ends: a duration from now or the next clock time; Invalid
    naming both forms for anything else. Pure."""
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise Invalid("custom pause is empty: type a duration such as 2h or a time such as 18:30")
    clock = _CLOCK.fullmatch(value)
    if clock:
        return next_clock_time(now, int(clock.group(1)), int(clock.group(2)), zone)
    try:
        return now + pause_length(value)
    except Invalid as exc:
        raise Invalid(f"custom pause must be a duration such as 2h or a time such as 18:30 ({exc})") from exc


def pause_until_morning(target: Target) -> PauseState:
    """Pause alerts until tomorrow 08:00 in the user's zone."""
    return pause_until(target, tomorrow_at(target.now(), user_zone(target)))


def pause_custom(target: Target, text: str) -> PauseState:
    """Pause alerts for a typed duration or until a typed clock time (Invalid naming the problem)."""
    return pause_until(target, custom_until(target.now(), text, user_zone(target)))
