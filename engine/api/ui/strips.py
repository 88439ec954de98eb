"""Status strips as the dashboard draws them: server-rendered SVG cells (templates/partials/strip.html)
from engine.actions.history.StatusStrip. Each state has its own colour AND shape (ok: a half bar,
alert: a full bar, error: a diamond, no run: a stub at the base line), every cell a <title> with its
time span and counts, and the strip one role=img with a summary as its label. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from engine.actions.history import Bucket, Cell, StatusStrip
from engine.timeutil import human_time

CELL_WIDTH = 6
CELL_GAP = 1
HEIGHT = 20
SPAN_WORDS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}


@dataclass(frozen=True)
class StripCell:
    """One drawn cell: its state (a CSS class suffix), the shape's SVG points, and its tooltip."""

    state: str
    points: str
    title: str


@dataclass(frozen=True)
class StripView:
    span: str
    label: str
    width: int
    height: int
    cells: tuple[StripCell, ...]


def _points(state: Cell, x: int) -> str:
    w, h = CELL_WIDTH, HEIGHT
    if state == Cell.OK:
        box = (x, h // 2, w, h - h // 2)
    elif state == Cell.ALERT:
        box = (x, 0, w, h)
    elif state == Cell.ERROR:
        mid = x + w / 2
        return f"{mid:g},0 {x + w},{h / 2:g} {mid:g},{h} {x},{h / 2:g}"
    else:
        box = (x, h - 3, w, 3)
    left, top, width, height = box
    return f"{left},{top} {left + width},{top} {left + width},{top + height} {left},{top + height}"


def counts_text(bucket: Bucket) -> str:
    """``2 runs: 1 ok, 1 alert`` or ``no run``."""
    if not bucket.runs:
        return "no run"
    parts = [f"{n} {word}" for n, word in ((bucket.ok, "ok"), (bucket.alert, "alert"), (bucket.error, "error")) if n]
    return f"{bucket.runs} run{'s' if bucket.runs != 1 else ''}: {', '.join(parts)}"


def cell_title(bucket: Bucket, zone: tzinfo | None) -> str:
    """``2026-12-01 14:00 to 14:30 CET: 2 runs: 1 ok, 1 alert`` (both dates when they differ)."""
    start_day, start_clock, _ = human_time(bucket.start, zone).split(" ", 2)
    end = human_time(bucket.end, zone)
    end_day, end_clock, end_zone = end.split(" ", 2)
    span = f"{start_day} {start_clock} to {end_clock} {end_zone}" if start_day == end_day else \
        f"{start_day} {start_clock} to {end}"
    return f"{span}: {counts_text(bucket)}"


def summary(strip: StatusStrip) -> str:
    """The strip's accessible label: ``Last 24 hours: 3 of 48 periods with alerts, 1 with errors, 20 without a run``."""
    worst = [b.worst for b in strip.buckets]
    alert, error, idle = (worst.count(c) for c in (Cell.ALERT, Cell.ERROR, Cell.NO_RUN))
    words = SPAN_WORDS.get(strip.span, strip.span)
    if alert == error == 0:
        head = f"{words}: no alerts or errors in {len(worst)} periods"
    else:
        head = f"{words}: {alert} of {len(worst)} periods with alerts, {error} with errors"
    return f"{head}, {idle} without a run"


def strip_view(strip: StatusStrip, zone: tzinfo | None) -> StripView:
    """What partials/strip.html draws for ``strip``, times in ``zone``."""
    step = CELL_WIDTH + CELL_GAP
    cells = tuple(StripCell(b.worst.value.replace(" ", "-"), _points(b.worst, i * step), cell_title(b, zone))
                  for i, b in enumerate(strip.buckets))
    return StripView(strip.span, summary(strip), max(len(cells) * step - CELL_GAP, 1), HEIGHT, cells)
