"""Words several layers share and none owns: how severe a finding is, what kind a notification is.

Checks, alerts, delivery, channels and modules all speak them, so they live here, below every one
of them (this module imports nothing from engine). They are StrEnums: a member equals its value
(``Severity.WARNING == "warning"``) and ``str()`` and f-strings give the value, so what is stored
in the database, sent as JSON and shown in messages is the plain word.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is, lowest first: the order ranks them (critical ignores quiet hours)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(Severity)}


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for critical; an unknown word (an old stored row) ranks as info."""
    return _RANK.get(severity, 0)


def highest_severity(severities: Iterable[str], default: str = Severity.INFO) -> str:
    """The most severe of ``severities`` (the first of equals), or ``default`` when there are none."""
    return max(severities, key=severity_rank, default=default)


class NotificationKind(StrEnum):
    """What a queued notification is (``notifications.kind``): channels choose which kinds they receive."""

    ALERT = "alert"  # a check's grouped open alerts
    RECOVERY = "recovery"  # an alert that was notified has resolved
    DIGEST = "digest"  # what quiet hours deferred, sent when they end
    WEEKLY = "weekly"  # the weekly summary
    OFFLINE = "offline"  # stale pending messages collapsed into one "while you were offline"
