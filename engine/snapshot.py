"""What the engine shows: an immutable Snapshot of its state (the tray, `status`, the API and the
control channel read it), made of frozen items (jobs, open alerts, channels), and its plain-data
form (``snapshot_to_dict``: the JSON of `status --json`, the API and the control channel)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from engine.alerts.store import Alert, AlertCounts
from engine.health import Health, HealthReport
from engine.presence import PresenceState, presence_fields
from engine.timeutil import to_db


@dataclass(frozen=True)
class JobInfo:
    name: str
    kind: str
    schedule: str
    next_run: datetime | None
    last_outcome: str | None
    last_finished: datetime | None
    last_error: str | None
    running: bool


@dataclass(frozen=True)
class ChannelState:
    """A delivery channel as the snapshot shows it (times as stored: UTC ISO text)."""

    name: str
    state: str  # ok | unavailable | broken | disabled | rate-limited (engine.delivery.outbox.ChannelHealth)
    pending: int
    failed: int
    last_error: str | None = None
    last_error_at: str | None = None
    last_ok_at: str | None = None
    rate_limited_until: str | None = None
    reason: str | None = None  # why it is unavailable
    held: int = 0  # rows presence-aware routing keeps back (for the person's return or escalation)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelState:
        """From a row of engine.delivery.outbox.channel_status."""
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Snapshot:
    """What the tray, `status` and the API show; immutable, cheap to compare."""

    health: HealthReport
    pid: int
    version: str
    started_at: datetime | None
    last_beat: datetime | None
    paused_until: datetime | None
    open_alerts: list[Alert] = field(default_factory=list)  # open and snoozed, newest first
    jobs: list[JobInfo] = field(default_factory=list)
    channels: list[ChannelState] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    last_check_at: datetime | None = None
    api_url: str | None = None
    api_listen: str | None = None  # where the API listens, with its LAN allow-list if any (engine.api.server)
    alerts: AlertCounts = AlertCounts()  # live alerts needing attention, acknowledged, snoozed
    deadman: dict[str, Any] | None = None  # the dead-man switch (engine.deadman), None when off
    # where the person is; not compared: its idle time changes every second
    presence: PresenceState | None = field(default=None, compare=False)
    presence_since: datetime | None = field(default=None, compare=False)

    @property
    def state(self) -> Health:
        return self.health.state


def snapshot_to_dict(snap: Snapshot) -> dict[str, Any]:
    """Plain-data form of a snapshot (for --json, the control channel and the API)."""

    def ts(value: datetime | None) -> str | None:
        return to_db(value) if value else None

    return {
        "state": snap.state.value,
        "summary": snap.health.summary,
        "reasons": snap.health.reasons,
        "pid": snap.pid,
        "version": snap.version,
        "started_at": ts(snap.started_at),
        "last_heartbeat": ts(snap.last_beat),
        "paused_until": ts(snap.paused_until),
        "open_alerts": [a.to_dict() for a in snap.open_alerts],
        "alerts": snap.alerts.to_dict(),
        "channels": [c.to_dict() for c in snap.channels],
        "last_check_at": ts(snap.last_check_at),
        "api_url": snap.api_url,
        "api_listen": snap.api_listen,
        "deadman": snap.deadman,
        **(presence_fields(snap.presence, snap.presence_since) if snap.presence else {}),
        "jobs": [
            {"name": j.name, "kind": j.kind, "schedule": j.schedule, "next_run": ts(j.next_run),
             "last_outcome": j.last_outcome, "last_finished": ts(j.last_finished),
             "last_error": j.last_error, "running": j.running}
            for j in snap.jobs
        ],
    }
