"""The rate-limit decision: a pure function of (history, config, now).

The seed's rule: before notifying for a check, look up the most recent SENT entry of that check
in heartbeat_log; inside the cooldown the notification is SUPPRESSED. A global pause suppresses
with reason "paused"; quiet hours DEFER non-critical notifications to one digest when the
window ends; critical ones go through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from engine.timeutil import format_duration

SENT, SUPPRESSED, DEFERRED = "SENT", "SUPPRESSED", "DEFERRED"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time; ``weekdays`` are the days the window starts on."""

    start: time
    end: time
    weekdays: frozenset[str]
    tz: tzinfo

    @classmethod
    def from_config(cls, start: str, end: str, weekdays: list[str], tz: tzinfo) -> QuietHours | None:
        if not start or not end or start == end:
            return None
        return cls(time.fromisoformat(start), time.fromisoformat(end), frozenset(weekdays), tz)

    def window_end(self, now: datetime) -> datetime | None:
        """The end of the quiet window containing ``now`` (aware), or None when not quiet."""
        local = now.astimezone(self.tz)
        for day_offset in (0, -1):
            day = (local + timedelta(days=day_offset)).date()
            if WEEKDAYS[day.weekday()] not in self.weekdays:
                continue
            start = datetime.combine(day, self.start, self.tz)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            end = datetime.combine(end_day, self.end, self.tz)
            if start <= local < end:
                return end
        return None


@dataclass(frozen=True)
class PolicyInput:
    """Everything the decision depends on."""

    check_name: str
    cooldown: timedelta
    last_sent: datetime | None
    now: datetime
    severity: str  # the highest severity among the subjects to notify
    paused_until: datetime | None = None
    quiet: QuietHours | None = None


@dataclass(frozen=True)
class Decision:
    action: str  # SENT | SUPPRESSED | DEFERRED
    reason: str

    @property
    def text(self) -> str:
        return f"{self.action} ({self.reason})"


def decide(inp: PolicyInput) -> Decision:
    """SENT, SUPPRESSED (paused, cooldown) or DEFERRED (quiet hours), with the reason."""
    if inp.paused_until is not None and inp.now < inp.paused_until:
        return Decision(SUPPRESSED, f"paused until {inp.paused_until:%Y-%m-%d %H:%M} UTC")
    if inp.last_sent is not None:
        elapsed = inp.now - inp.last_sent
        if timedelta(0) <= elapsed < inp.cooldown:
            return Decision(
                SUPPRESSED, f"{format_duration(elapsed)} into {format_duration(inp.cooldown)} cooldown"
            )
    if inp.quiet is not None and inp.severity != "critical":
        end = inp.quiet.window_end(inp.now)
        if end is not None:
            return Decision(DEFERRED, f"quiet hours until {end:%H:%M}")
    if inp.last_sent is None:
        return Decision(SENT, "first notification")
    return Decision(SENT, f"cooldown of {format_duration(inp.cooldown)} elapsed")


def long_duration(delta: timedelta) -> str:
    """'24 hours', '7 days', '1 hour 30 minutes': the seed's 'Cooldown:' line."""
    total = int(delta.total_seconds())
    units = (("day", 86400 if total >= 2 * 86400 else 10**12), ("hour", 3600), ("minute", 60), ("second", 1))
    parts = []
    for name, size in units:
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def spaced_duration(delta: timedelta) -> str:
    """'3 h 12 min', '2 d 4 h', '45 s': recovery notices."""
    total = int(delta.total_seconds())
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    parts = [f"{v} {u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "min")) if v]
    return " ".join(parts) if parts else f"{seconds} s"
