"""A check over time, for the dashboard: status strips (a fixed number of time buckets per span,
each with its worst outcome and counts), the uptime-style summary per span, the decision history
(paged) and the findings of the last run.

Buckets end at the next bucket boundary after ``now`` (boundaries are multiples of the bucket
width since the Unix epoch), so a strip drawn twice in one bucket has the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from engine.actions.checks import heartbeat_log, known_check
from engine.actions.errors import Invalid
from engine.actions.paging import Page
from engine.actions.target import Target, connected
from engine.alerts.history import raised_since
from engine.checks import history
from engine.checks.history import LastRun
from engine.checks.service import CheckOutcome
from engine.timeutil import to_db


class Cell(StrEnum):
    """What a bucket of a strip shows: its worst outcome, or that no run started in it."""

    OK = "ok"
    ALERT = "alert"  # a run had findings
    ERROR = "error"  # a run could not evaluate
    NO_RUN = "no run"


@dataclass(frozen=True)
class Span:
    """A strip's time span and how many buckets it is cut into."""

    name: str
    length: timedelta
    buckets: int

    @property
    def width(self) -> timedelta:
        return self.length / self.buckets


SPANS = {s.name: s for s in (Span("24h", timedelta(hours=24), 48), Span("7d", timedelta(days=7), 56),
                             Span("30d", timedelta(days=30), 60))}


def span(name: str) -> Span:
    """The span called ``name`` (24h, 7d, 30d); Invalid naming them otherwise."""
    if name not in SPANS:
        raise Invalid(f"span must be one of {', '.join(SPANS)}, not {name!r}")
    return SPANS[name]


@dataclass(frozen=True)
class Bucket:
    """One cell of a strip: ``start`` <= a run's start < ``end``, the run counts and the worst."""

    start: datetime
    end: datetime
    ok: int = 0
    alert: int = 0
    error: int = 0

    @property
    def runs(self) -> int:
        return self.ok + self.alert + self.error

    @property
    def worst(self) -> Cell:
        # an error hides findings (the check could not look); plain ifs: a page asks hundreds of cells
        if self.error:
            return Cell.ERROR
        if self.alert:
            return Cell.ALERT
        return Cell.OK if self.ok else Cell.NO_RUN

    def to_dict(self) -> dict[str, Any]:
        return {"start": to_db(self.start), "end": to_db(self.end), "worst": self.worst.value, "runs": self.runs,
                "ok": self.ok, "alert": self.alert, "error": self.error}


@dataclass(frozen=True)
class StatusStrip:
    """A check's runs over one span, oldest bucket first."""

    check: str
    span: str
    buckets: tuple[Bucket, ...]

    @property
    def failed(self) -> int:
        """Buckets whose worst outcome is an alert or an error."""
        return sum(b.worst in (Cell.ALERT, Cell.ERROR) for b in self.buckets)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "span": self.span, "failed": self.failed,
                "buckets": [b.to_dict() for b in self.buckets]}


def strip_start(now: datetime, chosen: Span) -> datetime:
    """Where the strip of ``chosen`` ending after ``now`` starts (pure)."""
    width = chosen.width.total_seconds()
    end = (now.timestamp() // width + 1) * width
    return datetime.fromtimestamp(end, timezone.utc) - chosen.length


_FIELD: dict[str, str] = {CheckOutcome.OK: "ok", CheckOutcome.FIRING: "alert", CheckOutcome.ERROR: "error"}


def status_strip(target: Target, check: str, span_name: str = "24h") -> StatusStrip:
    """The status strip of ``check`` over the span ``span_name`` ending now; NotFound for an unknown
    check, Invalid for an unknown span."""
    chosen = span(span_name)
    known_check(target, check)
    start = strip_start(target.now(), chosen)
    counts: list[dict[str, int]] = [{} for _ in range(chosen.buckets)]
    with connected(target) as db:
        for index, outcome, n in history.run_buckets(db, check, start, chosen.width.total_seconds(), chosen.buckets):
            key = _FIELD.get(outcome)
            if key:
                counts[index][key] = counts[index].get(key, 0) + n
    width = chosen.width
    return StatusStrip(check, chosen.name, tuple(Bucket(start + width * i, start + width * (i + 1), **c)
                                                 for i, c in enumerate(counts)))


@dataclass(frozen=True)
class Uptime:
    """One span of a check: runs, the share without findings or errors, and alerts raised."""

    span: str
    runs: int
    ok: int
    alert: int
    error: int
    alerts_raised: int

    @property
    def share_ok(self) -> float | None:
        """ok / runs (None when nothing ran)."""
        return self.ok / self.runs if self.runs else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "share_ok": self.share_ok}


def uptime(target: Target, check: str) -> tuple[Uptime, ...]:
    """The uptime-style summary of ``check`` over the last 24 h, 7 d and 30 d (NotFound for an
    unknown check)."""
    known_check(target, check)
    now = target.now()
    out = []
    with connected(target) as db:
        for chosen in SPANS.values():
            since = now - chosen.length
            counts = history.outcome_counts(db, check, since)
            ok, alert, error = (counts.get(o, 0) for o in (CheckOutcome.OK, CheckOutcome.FIRING, CheckOutcome.ERROR))
            out.append(Uptime(chosen.name, ok + alert + error, ok, alert, error, raised_since(db, check, since)))
    return tuple(out)


def decisions(target: Target, check: str, *, limit: int = 50, offset: int = 0) -> Page:
    """The notification decisions of ``check``, newest first, paged (the heartbeat log)."""
    return heartbeat_log(target, check=check, limit=limit, offset=offset)


def last_run(target: Target, check: str) -> LastRun | None:
    """The latest run of ``check`` and its findings; None when it never ran (NotFound for an unknown check)."""
    known_check(target, check)
    with connected(target) as db:
        return history.last_run(db, check)
