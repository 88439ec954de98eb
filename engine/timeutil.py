"""Time: every stored time is UTC ISO-8601 text that sorts as it reads; durations as text
("1h30m") with their limits; the zone schedules and displays use (never fails: UTC fallback)."""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo

log = logging.getLogger(__name__)

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


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|min|m|s)")
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
# The longest duration any text may name (100 years): far beyond every setting's own maximum,
# and far inside what timedelta and datetime arithmetic can hold.
MAX_DURATION = timedelta(days=36500)
_MAX_TEXT = 64


def _duration_seconds(text: str) -> float:
    """The seconds ``text`` names (maybe 0, huge or inf); ValueError when it is no duration at all."""
    s = text.strip().lower().replace(" ", "")
    if not s:
        raise ValueError("empty duration")
    if len(s) > _MAX_TEXT:
        raise ValueError(f"not a duration: {text[:_MAX_TEXT]!r}... (too long)")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    pos = 0
    seconds = 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        seconds += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 2h, 1d, 1h30m)")
    return seconds


def parse_duration(text: str) -> timedelta:
    """Parse '90s', '30m', '2h', '1d', '1h30m' or a bare number of seconds.

    Raises ValueError naming the text when it is not a positive duration of at most
    MAX_DURATION (never OverflowError, whatever the text).
    """
    seconds = _duration_seconds(text)
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration too long: {text!r} (at most {format_duration(MAX_DURATION)})")
    delta = timedelta(seconds=seconds)
    if delta <= timedelta(0):
        raise ValueError(f"duration must be positive: {text!r}")
    return delta


def duration_problem(value: object, low: timedelta, high: timedelta) -> str | None:
    """Why ``value`` is not a duration from ``low`` to ``high`` (the text after "expected"), or None."""
    expected = f"a duration from {format_duration(low)} to {format_duration(high)}"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return expected + ", such as 30m, 2h or 1d"
    try:
        seconds = _duration_seconds(str(value))
    except ValueError:
        return expected + ", such as 30m, 2h or 1d"
    return None if low.total_seconds() <= seconds <= high.total_seconds() else expected


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


def spaced_duration(delta: timedelta) -> str:
    """'3 h 12 min', '2 d 4 h', '45 s': recovery notices and alert titles."""
    total = int(delta.total_seconds())
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    parts = [f"{v} {u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "min")) if v]
    return " ".join(parts) if parts else f"{seconds} s"


def _system_zone() -> tzinfo:
    import tzlocal  # maps Windows zone names to IANA; reads TZ, /etc/localtime, ...

    return tzlocal.get_localzone()


def _utc_zone() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("UTC")
    except Exception:  # no tz database at all (Windows without tzdata)
        return timezone.utc


def probe_local_zone(tz_env: str | None, system_zone: Callable[[], tzinfo] = _system_zone
                     ) -> tuple[tzinfo, str | None]:
    """The machine's zone and, when it cannot be used, UTC and the reason (one line).

    ``tz_env`` is the TZ environment variable (None when unset). An empty TZ means UTC to the C
    library; POSIX rules such as ``UTC+5`` and unknown names cannot drive schedules: both give UTC.
    """
    hint = "set TZ to a zone name such as Europe/Berlin, or [general] timezone in config.toml"
    if tz_env is not None and not tz_env.strip():
        return _utc_zone(), f"TZ={tz_env!r} names no time zone; using UTC ({hint})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            zone = system_zone()
        except Exception as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            if tz_env is not None:
                return _utc_zone(), f"TZ={tz_env!r} is not a time zone Watchkeeper can use; using UTC ({hint})"
            return _utc_zone(), f"the machine's time zone cannot be determined ({reason}); using UTC ({hint})"
    if caught:
        detail = " ".join(str(caught[0].message).split())
        where = f"TZ={tz_env!r}" if tz_env is not None else "the machine's time zone"
        return zone, f"{where}: {detail} (using {zone}; {hint})"
    return zone, None


@functools.cache
def _local_zone() -> tuple[tzinfo, str | None]:
    zone, problem = probe_local_zone(os.environ.get("TZ"))
    if problem:
        log.warning("%s", problem)  # once per process: the result is cached
    return zone, problem


def local_zone_problem() -> str | None:
    """Why the machine's zone cannot be used (UTC is used instead), or None when it can."""
    return _local_zone()[1]


def resolve_timezone(name: str) -> tzinfo:
    """The configured zone (validated by config), or the machine's; never raises for "".

    An unusable machine zone (odd TZ, missing configuration) gives UTC and one logged warning.
    """
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    return _local_zone()[0]


def human_time(value: datetime | str | None, zone: tzinfo | None = None, *, seconds: bool = False,
               never: str = "never") -> str:
    """A time as a person reads it, everywhere (CLI, tray, Telegram, toasts): ``2026-12-01 14:05 CET``
    in ``zone`` (None: the machine's, as :func:`resolve_timezone` gives it) with the zone's
    abbreviation, no microseconds, seconds only when asked (``check why``). ``value`` may be a
    stored timestamp; None (or empty) gives ``never``. JSON and the API keep UTC ISO-8601 (to_db)."""
    if value is None or value == "":
        return never
    dt = from_db(value) if isinstance(value, str) else value
    if dt.tzinfo is None:  # naive values in this code base are UTC
        dt = dt.replace(tzinfo=timezone.utc)
    return _human_time(dt, zone if zone is not None else resolve_timezone(""), seconds)


@functools.lru_cache(maxsize=4096)
def _human_time(dt: datetime, zone: tzinfo, seconds: bool) -> str:
    # Cached: a dashboard page formats the same bucket boundaries for every check (over 1,000 times a
    # view). Equal aware datetimes are the same instant, so they share a text in a given zone.
    local = dt.astimezone(zone)
    abbreviation = local.tzname() or local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {abbreviation}"
