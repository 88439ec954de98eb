"""The rate-limit decision: a pure function of (history, config, now).

The rule: before notifying for a check, look up the most recent SENT entry of that check
in heartbeat_log; inside the cooldown the notification is SUPPRESSED. A global pause suppresses
with reason "paused"; quiet hours DEFER non-critical notifications to one digest when the
window ends; critical ones go through.

The clock can move back (a manual change, a bad NTP server, a dual-boot machine writing local
time). A timestamp in the future is then never "elapsed": a latest SENT after ``now`` means the
clock moved back, and the check stays SUPPRESSED until the cooldown has passed in real time.
Real time is counted from an anchor: the wall time at which the future SENT was first noticed
(``clock_back_anchor``). The dispatcher keeps it per check in runtime_state, so it survives
restarts, and it holds until the next SENT of the check. We chose the anchor over translating
timestamps by the jump the heartbeat measured: it needs no heartbeat running across the jump,
and it reads the same before and after a restart.
- The anchor keeps counting when the wall clock, still set back, passes the old SENT time again:
  the notification comes one cooldown of real time after the jump was noticed, not a whole jump
  later.
- An anchor that is itself in the future (a second jump back) is replaced by ``now``: each jump
  back restarts the real-time count, so suppression never ends before one cooldown of real time.
- A clock set back and then corrected forward: wall time alone cannot tell the correction from
  time passing, but the heartbeat records it as a gap (wall moved, beats did not). Wall time
  since the anchor that falls in heartbeat gaps (``clock_back_unseen``) is not counted. A
  suspend or downtime in that stretch is a gap too, which only suppresses longer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum

from engine.timeutil import format_duration, spaced_duration  # noqa: F401 - spaced_duration is re-exported
from engine.vocabulary import Severity


class DecisionAction(StrEnum):
    """What was decided for a notification (``heartbeat_log.decision``, stored and shown as the word)."""

    SENT = "SENT"
    SUPPRESSED = "SUPPRESSED"  # paused, inside the cooldown, or the clock moved back
    DEFERRED = "DEFERRED"  # quiet hours: sent in the digest when they end
    RECOVERY = "RECOVERY"  # the dispatcher's record of a recovery notice; decide() never returns it


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
    # The clock-back anchor of last_sent (clock_back_anchor): real time is counted from it. With
    # last_sent in the future, None means "noticed now".
    clock_back_since: datetime | None = None
    # Wall time since that anchor inside heartbeat gaps: not counted as real time.
    clock_back_unseen: timedelta = timedelta(0)


@dataclass(frozen=True)
class Decision:
    action: DecisionAction  # SENT | SUPPRESSED | DEFERRED
    reason: str

    @property
    def text(self) -> str:
        return f"{self.action} ({self.reason})"


def clock_back_anchor(last_sent: datetime | None, now: datetime,
                      stored: tuple[datetime, datetime] | None) -> datetime | None:
    """The wall time from which real time is counted since ``last_sent``, or None (no clock moved back).

    ``stored`` is the kept (last_sent, noticed_at) pair; it holds only for the same last_sent. A
    future last_sent not noticed before is noticed ``now``; so is a kept anchor that is itself in
    the future (a second jump back).
    """
    if last_sent is None:
        return None
    if stored is not None and stored[0] == last_sent:
        return stored[1] if stored[1] <= now else now
    return now if last_sent > now else None


def _utc(dt: datetime) -> str:
    return f"{dt.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def decide(inp: PolicyInput) -> Decision:
    """SENT, SUPPRESSED (paused, cooldown, clock moved back) or DEFERRED (quiet hours), with the reason."""
    if inp.paused_until is not None and inp.now < inp.paused_until:
        return Decision(DecisionAction.SUPPRESSED, f"paused until {inp.paused_until:%Y-%m-%d %H:%M} UTC")
    last = inp.last_sent
    clock_back = last is not None and (last > inp.now or inp.clock_back_since is not None)
    if last is not None and clock_back:
        since = inp.clock_back_since
        if since is None or since > inp.now:  # not noticed before, or a second jump back
            since = inp.now
        real = max(inp.now - since - inp.clock_back_unseen, timedelta(0))
        if real < inp.cooldown:
            tense = "is" if last > inp.now else "was"
            return Decision(DecisionAction.SUPPRESSED, (
                f"clock moved back: last notified {_utc(last)} {tense} in the future; suppressed until "
                f"{format_duration(inp.cooldown)} have passed since {_utc(since)}, {format_duration(real)} so far"))
    elif last is not None:
        elapsed = inp.now - last
        if elapsed < inp.cooldown:
            return Decision(DecisionAction.SUPPRESSED,
                            f"{format_duration(elapsed)} into {format_duration(inp.cooldown)} cooldown")
    if inp.quiet is not None and inp.severity != Severity.CRITICAL:
        end = inp.quiet.window_end(inp.now)
        if end is not None:
            return Decision(DecisionAction.DEFERRED, f"quiet hours until {end:%H:%M}")
    if inp.last_sent is None:
        return Decision(DecisionAction.SENT, "first notification")
    if clock_back:
        return Decision(DecisionAction.SENT,
                        f"cooldown of {format_duration(inp.cooldown)} elapsed since the clock moved back")
    return Decision(DecisionAction.SENT, f"cooldown of {format_duration(inp.cooldown)} elapsed")


def long_duration(delta: timedelta) -> str:
    """'24 hours', '7 days', '1 hour 30 minutes': the 'Cooldown:' line of `check why`."""
    total = int(delta.total_seconds())
    units = (("day", 86400 if total >= 2 * 86400 else 10**12), ("hour", 3600), ("minute", 60), ("second", 1))
    parts = []
    for name, size in units:
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"
