"""Where the person is: present at this machine, away from it, or unknown.

``classify`` turns one platform reading (engine/platform/presence.py) into a state with a reason
people can read; ``PresenceTracker`` reads at most once per ``max_age`` seconds and remembers when
the state last changed. Both take the clock and the reader as arguments, so they test without a
display.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from engine.platform.presence import PresenceReading
from engine.timeutil import spaced_duration, to_db, utcnow


class Presence(StrEnum):
    """The person's presence as routing and the status see it."""

    PRESENT = "present"  # recent input, unlocked: a toast is seen
    AWAY = "away"  # idle past away_after, locked, or the OS shows no notifications
    UNKNOWN = "unknown"  # no source answered on this machine


@dataclass(frozen=True)
class PresenceState:
    """A classified reading: the state, why, and the reading it came from."""

    presence: Presence
    reason: str
    reading: PresenceReading = field(default_factory=PresenceReading)


def classify(reading: PresenceReading, away_after: float) -> PresenceState:
    """The state of one reading: locked or quiet -> away; idle past ``away_after`` seconds -> away;
    otherwise present; nothing readable -> unknown."""
    if reading.locked:
        return PresenceState(Presence.AWAY, "the session is locked", reading)
    if reading.quiet:
        return PresenceState(Presence.AWAY, f"notifications are not shown ({reading.quiet})", reading)
    if reading.idle_seconds is None:
        return PresenceState(Presence.UNKNOWN, reading.error or "no idle time on this machine", reading)
    idle = spaced_duration(timedelta(seconds=reading.idle_seconds))
    if reading.idle_seconds >= away_after:
        return PresenceState(Presence.AWAY, f"idle for {idle}", reading)
    return PresenceState(Presence.PRESENT, f"last input {idle} ago", reading)


class PresenceTracker:
    """The current presence, read at most once per ``max_age`` seconds; ``changed_at`` is when the
    state last changed (None until the first change after the first reading). Thread-safe."""

    def __init__(self, reader: Callable[[], PresenceReading], away_after: float, *,
                 now: Callable[[], datetime] = utcnow, max_age: float = 2.0):
        self.reader = reader
        self.away_after = away_after
        self.now = now
        self.max_age = max_age
        self.changed_at: datetime | None = None
        self._state: PresenceState | None = None
        self._read_at: datetime | None = None
        self._lock = threading.Lock()

    def current(self) -> PresenceState:
        """The presence now (a fresh reading when the last is older than ``max_age``)."""
        with self._lock:
            now = self.now()
            fresh = self._read_at is not None and 0 <= (now - self._read_at).total_seconds() < self.max_age
            if self._state is not None and fresh:
                return self._state
            state = classify(self.reader(), self.away_after)
            if self._state is not None and state.presence != self._state.presence:
                self.changed_at = now
            self._state, self._read_at = state, now
            return state


def presence_fields(state: PresenceState, since: datetime | None) -> dict[str, object]:
    """``presence`` and ``presence_detail`` as `status --json` and the API show them."""
    reading = state.reading
    idle = None if reading.idle_seconds is None else round(reading.idle_seconds, 1)
    return {"presence": state.presence.value,
            "presence_detail": {"reason": state.reason, "source": reading.source,
                                "idle_seconds": idle,
                                "locked": reading.locked, "since": to_db(since) if since else None}}
