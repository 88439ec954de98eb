"""Fold job, channel, alert and heartbeat state into one Health value and a summary line.

Pure: takes plain facts, returns a value; the engine gathers the facts, the tray draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

NO_CHANNEL_CAN_DELIVER = "no channel can deliver alerts"


class Health(StrEnum):
    STARTING = "starting"
    OK = "ok"
    ATTENTION = "attention"  # open alerts
    DEGRADED = "degraded"  # something of ours is broken
    PAUSED = "paused"  # paused or quiet hours


@dataclass(frozen=True)
class HealthFacts:
    """Everything health depends on."""

    started: bool
    now: datetime
    last_beat: datetime | None
    beat_interval: float
    failing_jobs: list[str] = field(default_factory=list)
    broken_channels: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # e.g. database trouble, API port busy
    open_alerts: int = 0  # alerts needing attention: open, neither acknowledged nor snoozed
    can_deliver: bool = True  # some enabled channel can deliver alerts
    paused_until: datetime | None = None
    quiet_hours: bool = False


@dataclass(frozen=True)
class HealthReport:
    state: Health
    reasons: list[str]

    @property
    def summary(self) -> str:
        return f"{self.state.value.upper()}" + (f": {'; '.join(self.reasons)}" if self.reasons else "")


def assess(facts: HealthFacts) -> HealthReport:
    """Degraded beats paused beats attention beats ok; reasons say why."""
    if not facts.started:
        return HealthReport(Health.STARTING, ["starting"])
    problems: list[str] = list(facts.problems)
    problems += [f"job {name} failing" for name in facts.failing_jobs]
    problems += [f"channel {name} broken" for name in facts.broken_channels]
    if not facts.can_deliver:
        problems.append(NO_CHANNEL_CAN_DELIVER)
    if facts.last_beat is None or facts.now - facts.last_beat > timedelta(seconds=3 * facts.beat_interval):
        problems.append("heartbeat stale")
    if problems:
        return HealthReport(Health.DEGRADED, problems)
    if facts.paused_until is not None:
        return HealthReport(Health.PAUSED, [f"paused until {facts.paused_until:%Y-%m-%d %H:%M} UTC"])
    if facts.quiet_hours:
        return HealthReport(Health.PAUSED, ["quiet hours"])
    if facts.open_alerts:
        return HealthReport(Health.ATTENTION, [f"{facts.open_alerts} open alert(s)"])
    return HealthReport(Health.OK, [])
