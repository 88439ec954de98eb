"""Schedules as text: ``every 5m`` / ``every 1h30m`` (interval) or ``cron M H DOM MON DOW``.

Parsed into APScheduler trigger objects (not string aliases: PyInstaller cannot see the
entry points those resolve through).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.timeutil import parse_duration


@dataclass(frozen=True)
class ScheduleSpec:
    """A parsed schedule: an interval, or cron fields."""

    text: str
    interval: timedelta | None = None
    cron: tuple[str, str, str, str, str] | None = None

    @property
    def period(self) -> timedelta:
        """The nominal period (cron: daily unless a weekday or day-of-month is set)."""
        if self.interval is not None:
            return self.interval
        assert self.cron is not None
        minute, hour, dom, month, dow = self.cron
        if dow != "*":
            return timedelta(days=7)
        if dom != "*" or month != "*":
            return timedelta(days=28)
        if hour != "*":
            return timedelta(days=1)
        return timedelta(hours=1)

    def trigger(self, timezone: Any) -> Any:
        """The APScheduler trigger for this schedule in ``timezone``."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval.total_seconds(), timezone=timezone)
        assert self.cron is not None
        minute, hour, dom, month, dow = self.cron
        return CronTrigger(
            minute=minute, hour=hour, day=dom, month=month, day_of_week=dow, timezone=timezone
        )


def parse_schedule(text: str) -> ScheduleSpec:
    """Parse a schedule; ValueError says what form is expected."""
    if not isinstance(text, str):
        raise ValueError('a schedule such as "every 1h" or "cron 0 9 * * mon-fri"')
    words = text.strip().split()
    if len(words) == 2 and words[0] == "every":
        try:
            return ScheduleSpec(text=text, interval=parse_duration(words[1]))
        except ValueError as exc:
            raise ValueError(f'"every DURATION" with a duration such as 5m or 1h ({exc})') from exc
    if len(words) == 6 and words[0] == "cron":
        spec = ScheduleSpec(text=text, cron=(words[1], words[2], words[3], words[4], words[5]))
        try:
            spec.trigger("UTC")
        except ValueError as exc:
            raise ValueError(f'"cron MINUTE HOUR DAY MONTH WEEKDAY" ({exc})') from exc
        return spec
    raise ValueError('a schedule such as "every 1h" or "cron 0 9 * * mon-fri"')
