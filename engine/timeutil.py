"""Timestamps: every stored time is UTC ISO-8601 text that sorts as it reads."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the one clock the engine reads)."""
    return datetime.now(timezone.utc)


def to_db(dt: datetime) -> str:
    """Render an aware (or naive-UTC) datetime in the stored format."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.strftime(_FMT)


def from_db(text: str) -> datetime:
    """Parse a stored timestamp (also accepts other ISO-8601 forms) as aware UTC."""
    s = text.strip().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|min|s)", re.IGNORECASE)
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """Parse '90s', '30m', '2h', '1d', '1h30m' or a bare number of seconds.

    Raises ValueError naming the text when it is not a positive duration.
    """
    s = text.strip().lower().replace(" ", "")
    if not s:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        seconds = float(s)
    else:
        pos = 0
        seconds = 0.0
        for m in _DURATION.finditer(s):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNIT[m.group(2).lower()]
            pos = m.end()
        if pos != len(s):
            raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 2h, 1d, 1h30m)")
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Compact form used in explanations: '4h 15m', '24h', '7d', '3d 2h', '45s' (days from 48h)."""
    total = int(round(delta.total_seconds()))
    if total < 0:
        total = -total
    days, rem = divmod(total, 86400) if total >= 2 * 86400 else (0, total)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if not parts:
        parts.append(f"{seconds}s")
    return " ".join(parts)
