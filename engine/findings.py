"""What a check hands to the alerts: a Finding, the shared contract of the two.

Neutral ground below both: check kinds produce findings, the alert store and dispatcher consume
them, and neither has to import the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One thing a check found: ``subject`` is its stable identity within the check."""

    subject: str
    severity: str
    title: str
    detail: str = ""
