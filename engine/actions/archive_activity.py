"""The archive over days, for the dashboard: a calendar heatmap (sessions started and prompts per
day of the person's zone) and token use per day (empty when no token counts were archived)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from engine.actions.errors import Invalid
from engine.actions.target import Target, connected
from engine.archive.activity import prompt_times, session_starts, token_rows
from engine.timeutil import from_db, resolve_timezone

MAX_DAYS = 400
LEVELS = 4  # heatmap intensity levels above 0


@dataclass(frozen=True)
class Day:
    """One day of the heatmap; ``level`` 0 (no prompts) .. LEVELS (the busiest day's share)."""

    day: date
    sessions: int
    prompts: int
    level: int

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "sessions": self.sessions, "prompts": self.prompts, "level": self.level}


@dataclass(frozen=True)
class Heatmap:
    """``days`` oldest first, ending today (in ``zone``)."""

    days: tuple[Day, ...]
    zone: str

    def to_dict(self) -> dict[str, Any]:
        return {"zone": self.zone, "days": [d.to_dict() for d in self.days],
                "max_prompts": max((d.prompts for d in self.days), default=0)}


@dataclass(frozen=True)
class TokenDay:
    day: date
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "day": self.day.isoformat()}


def level(prompts: int, busiest: int) -> int:
    """The heatmap level of a day with ``prompts`` when the busiest has ``busiest`` (pure)."""
    if prompts <= 0 or busiest <= 0:
        return 0
    return max(1, min(LEVELS, -(-prompts * LEVELS // busiest)))


def _window(target: Target, days: int, until: date | None) -> tuple[tzinfo, list[date], datetime]:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"days must be from 1 to {MAX_DAYS}, not {days}")
    zone = resolve_timezone(target.config.general.timezone)
    last = until or target.now().astimezone(zone).date()
    first = last - timedelta(days=days - 1)
    return zone, [first + timedelta(days=i) for i in range(days)], datetime.combine(first, time(), zone)


def _per_day(stamps: Iterable[str], zone: tzinfo, first: date, last: date) -> dict[date, int]:
    out: dict[date, int] = {}
    for stamp in stamps:
        try:
            day = from_db(stamp).astimezone(zone).date()
        except ValueError:
            continue
        if first <= day <= last:
            out[day] = out.get(day, 0) + 1
    return out


def heatmap(target: Target, days: int = 182, until: date | None = None) -> Heatmap:
    """Sessions started and prompts per day over the ``days`` (1..MAX_DAYS) days ending ``until``
    (included; default today)."""
    zone, span, since = _window(target, days, until)
    with connected(target) as db:
        sessions = _per_day(session_starts(db, since), zone, span[0], span[-1])
        prompts = _per_day(prompt_times(db, since), zone, span[0], span[-1])
    busiest = max(prompts.values(), default=0)
    return Heatmap(tuple(Day(d, sessions.get(d, 0), prompts.get(d, 0), level(prompts.get(d, 0), busiest))
                         for d in span), str(target.config.general.timezone or "local"))


def token_usage(target: Target, days: int = 30, until: date | None = None) -> tuple[TokenDay, ...]:
    """Tokens per day over the ``days`` days ending ``until`` (default today), oldest first, only days
    with any (empty without token data)."""
    zone, span, since = _window(target, days, until)
    totals: dict[date, list[int]] = {}
    with connected(target) as db:
        for stamp, *counts in token_rows(db, since):
            try:
                day = from_db(stamp).astimezone(zone).date()
            except ValueError:
                continue
            if span[0] <= day <= span[-1]:
                row = totals.setdefault(day, [0, 0, 0, 0])
                for i, n in enumerate(counts):
                    row[i] += n
    return tuple(TokenDay(d, *totals[d]) for d in sorted(totals))
