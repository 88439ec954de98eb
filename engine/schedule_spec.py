"""Schedules as text: ``every 5m`` / ``every 1h30m`` (interval) or ``cron M H DOM MON DOW``.

Parsed into APScheduler trigger objects (not string aliases: PyInstaller cannot see the
entry points those resolve through). Intervals run from MIN_INTERVAL (a shorter one only spins
the CPU and floods the log) to MAX_INTERVAL; a cron schedule must fire at some time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.timeutil import format_duration, parse_duration

MIN_INTERVAL = timedelta(seconds=1)
MAX_INTERVAL = timedelta(days=365)
_EVERY = f'"every DURATION" with a duration from {format_duration(MIN_INTERVAL)} to {format_duration(MAX_INTERVAL)}'


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
            interval = parse_duration(words[1])
        except ValueError as exc:
            raise ValueError(f"{_EVERY}, such as 5m or 1h ({exc})") from exc
        if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise ValueError(_EVERY)
        return ScheduleSpec(text=text, interval=interval)
    if len(words) == 6 and words[0] == "cron":
        spec = ScheduleSpec(text=text, cron=(words[1], words[2], words[3], words[4], words[5]))
        try:
            trigger = spec.trigger("UTC")
        except ValueError as exc:
            raise ValueError(f'"cron MINUTE HOUR DAY MONTH WEEKDAY" ({exc})') from exc
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
            raise ValueError('"cron MINUTE HOUR DAY MONTH WEEKDAY" that fires at some time (this one never does)')
        return spec
    raise ValueError('a schedule such as "every 1h" or "cron 0 9 * * mon-fri"')
