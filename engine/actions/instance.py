"""Instance actions: status (the running instance's snapshot, or the last known state from the
database), pause and resume alerts, and the effective configuration with secrets redacted.

Durations given by a person (``2h``, ``1d``) are validated here, once, for every front end."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from engine import runtime_state
from engine.actions.errors import Invalid
from engine.actions.target import Instance, Target, connected
from engine.alerts.store import AlertCounts, attention_counts
from engine.presence import PresenceState, PresenceTracker, presence_fields
from engine.snapshot import ChannelState, Snapshot, snapshot_to_dict
from engine.timeutil import MAX_DURATION, format_duration, parse_duration, to_db

MAX_PAUSE = timedelta(days=30)  # the longest pause accepted from any front end


def duration(value: timedelta | str) -> timedelta:
    """``value`` as a positive timedelta of at most MAX_DURATION; Invalid naming the problem."""
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise Invalid(f"duration must be positive: {format_duration(value)!r}")
        if value > MAX_DURATION:
            raise Invalid(f"duration too long (at most {format_duration(MAX_DURATION)})")
        return value
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


@dataclass(frozen=True)
class Status:
    """A running instance's state (its snapshot)."""

    snapshot: Snapshot

    def to_dict(self) -> dict[str, Any]:
        return snapshot_to_dict(self.snapshot)


@dataclass(frozen=True)
class LastInstance:
    """The latest instance recorded in daemon_state (times as stored: UTC ISO text)."""

    pid: int
    version: str
    started_at: str | None
    last_heartbeat: str | None
    stopped_at: str | None
    clean_shutdown: bool


@dataclass(frozen=True)
class StoppedStatus:
    """No instance runs: what the database remembers of the last one, the channels' backlog and problems."""

    last_instance: LastInstance | None
    channels: tuple[ChannelState, ...]
    problems: tuple[str, ...]
    alerts: AlertCounts = AlertCounts()
    presence: PresenceState | None = None  # read once in this process (no instance tracks it)

    def to_dict(self) -> dict[str, Any]:
        return {"state": "stopped", "last_instance": asdict(self.last_instance) if self.last_instance else None,
                "channels": [c.to_dict() for c in self.channels], "alerts": self.alerts.to_dict(),
                **(presence_fields(self.presence, None) if self.presence else {}),
                **({"problems": list(self.problems)} if self.problems else {})}


@dataclass(frozen=True)
class PauseState:
    """Until when alerts are paused (None: not paused)."""

    paused_until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"paused_until": to_db(self.paused_until) if self.paused_until else None}


def alert_counts(target: Target) -> AlertCounts:
    """Live alerts needing attention, acknowledged and snoozed now: what the tray's number, `status`
    (running or not) and Telegram's /status count."""
    with connected(target) as db:
        return attention_counts(db, target.now())


def status(instance: Instance) -> Status:
    """The running instance's snapshot."""
    return Status(instance.snapshot())


def stopped_status(target: Target) -> StoppedStatus:
    """The last known state when no instance runs."""
    from engine.actions.delivery import can_deliver, channels
    from engine.archive.runs import disk_full_problem
    from engine.health import NO_CHANNEL_CAN_DELIVER

    with connected(target) as db:
        row = db.execute_sql(
            "SELECT pid, version, started_at, last_beat_at, stopped_at, clean_shutdown FROM daemon_state"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
        problem = disk_full_problem(db)
    last = LastInstance(row[0], row[1], row[2], row[3], row[4], bool(row[5])) if row else None
    states = channels(target)
    problems = [p for p in (problem, None if can_deliver(states) else NO_CHANNEL_CAN_DELIVER) if p]
    return StoppedStatus(last, states, tuple(problems), alert_counts(target), presence_now(target))


def presence_now(target: Target) -> PresenceState:
    """Where the person is, read once here (the running instance keeps its own tracker)."""
    from engine.platform.presence import read_presence

    return PresenceTracker(read_presence, parse_duration(target.config.delivery.away_after).total_seconds(),
                           now=target.now).current()


def pause_until(target: Target, until: datetime | None) -> PauseState:
    """Pause alerts until ``until``; None resumes. Invalid when ``until`` is more than MAX_PAUSE from now
    (a pause that long is a forgotten one: everything would stay silent)."""
    if until is not None and until - target.now() > MAX_PAUSE:
        raise Invalid(f"pause too long: until {to_db(until)} (at most {MAX_PAUSE.days} days from now)")
    with connected(target) as db:
        runtime_state.set_paused_until(db, until)
    target.publish()
    return PauseState(until)


def pause_length(value: timedelta | str) -> timedelta:
    """``value`` as a pause length: a positive duration of at most MAX_PAUSE; Invalid naming the maximum."""
    length = duration(value)
    if length > MAX_PAUSE:
        shown = value if isinstance(value, str) else format_duration(length)
        raise Invalid(f"pause too long: {shown} (at most {MAX_PAUSE.days} days)")
    return length


def pause(target: Target, length: timedelta | str) -> PauseState:
    """Pause alerts for ``length`` from now (a duration such as ``2h``, at most MAX_PAUSE; Invalid otherwise)."""
    return pause_until(target, target.now() + pause_length(length))


def resume(target: Target) -> PauseState:
    """Resume alerts."""
    return pause_until(target, None)


def redacted_config(target: Target) -> dict[str, Any]:
    """The effective configuration as plain data, secrets replaced by ``<set>``."""
    from engine.config import redacted

    result: dict[str, Any] = json.loads(json.dumps(redacted(target.config), default=str))
    return result
