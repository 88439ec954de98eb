"""``/ui/archive``: the conversation archive: a calendar heatmap of a year's activity (server-rendered
SVG), the search ("Search conversations", a GET form, hits highlighted), the recent sessions, and
the token-usage panel (engine.actions.usage over the 7 / 30 / 90 days ending the page's day, one agent or
both: totals and estimated cost, a uPlot chart fed by ``/ui/archive/usage.json`` with a table alternative, the
top projects and models; ``/ui/archive/usage`` is the panel alone, swapped in by htmx). ``/ui/archive/{session_id}``
shows one session (``?agent=ID``: one of its subagents): header, prompts, answers, tool calls with
their results, subagents linked. Reads only: engine.actions.archive and archive_activity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup, escape

from engine.actions import archive, archive_activity, usage
from engine.actions.archive import ArchivedSession, SessionDetail, SubagentDetail
from engine.actions.errors import Invalid, NotFound
from engine.actions.target import connected
from engine.actions.usage import UsageOverview, UsageReport
from engine.api.ui.context import Ui, UiDep
from engine.archive.model import ToolCallView, TurnView
from engine.timeutil import from_db, resolve_timezone

WEEKS = 53  # columns of the heatmap: a year, Monday-first weeks, the last holding the chosen day
CELL, GAP, LEFT, TOP = 11, 2, 30, 16  # heatmap geometry (SVG user units)
PITCH = CELL + GAP
WEEKDAY_LABELS = ((0, "Mon"), (2, "Wed"), (4, "Fri"))
MARKS = ("\x02", "\x03")  # around each search match; control characters a transcript does not hold
MAX_QUERY = 500
RESULTS = 30
RECENT = 20
LONG_OUTPUT = 240  # characters (or more than LONG_LINES lines): shown collapsed
LONG_LINES = 4
USAGE_SERIES = (("Input", "input_tokens"), ("Output", "output_tokens"), ("Cache write", "cache_creation_tokens"),
                ("Cache read", "cache_read_tokens"))
AGENT_CHOICES = (("", "All agents"), ("claude", "Claude Code"), ("codex", "Codex"))
TOP_PROJECTS = 5
TOP_MODELS = 5

router = APIRouter()


# -- pure pieces ------------------------------------------------------------------------------------------


def highlight(snippet: str, marks: tuple[str, str] = MARKS) -> Markup:
    """``snippet`` escaped, each marked match in ``<mark>`` (an unpaired mark is dropped). Pure."""
    opening, closing = marks
    out: list[str] = []
    inside = False
    text = ""
    for char in snippet:
        if char == opening and not inside:
            out.append(str(escape(text)))
            text, inside = "", True
        elif char == closing and inside:
            out.append(f"<mark>{escape(text)}</mark>")
            text, inside = "", False
        elif char not in marks:
            text += char
    out.append(str(escape(text)))
    return Markup("".join(out))


def year_span(last: date) -> tuple[date, date]:
    """The heatmap's first and last day: WEEKS Monday-first weeks, the last week holding ``last``. Pure."""
    monday = last - timedelta(days=last.weekday())
    return monday - timedelta(weeks=WEEKS - 1), last


@dataclass(frozen=True)
class HeatCell:
    x: int
    y: int
    day: date
    sessions: int
    prompts: int
    level: int

    @property
    def title(self) -> str:
        return (f"{self.day:%a %d %b %Y}: {self.prompts} prompt{'s' * (self.prompts != 1)}, "
                f"{self.sessions} session{'s' * (self.sessions != 1)} started")


@dataclass(frozen=True)
class HeatGrid:
    """The heatmap laid out: cells, month labels (x, text), weekday labels (y, text), the summary label."""

    cells: tuple[HeatCell, ...]
    months: tuple[tuple[int, str], ...]
    weekdays: tuple[tuple[int, str], ...]
    width: int
    height: int
    first: date
    last: date
    prompts: int
    sessions: int
    active: tuple[HeatCell, ...]

    @property
    def label(self) -> str:
        busiest = max(self.active, key=lambda c: c.prompts, default=None)
        text = (f"Activity from {self.first:%d %b %Y} to {self.last:%d %b %Y}: {self.prompts} prompts and "
                f"{self.sessions} sessions on {len(self.active)} active days")
        return text + (f"; busiest {busiest.day:%d %b %Y} with {busiest.prompts} prompts." if busiest else ".")


def heat_grid(heat: archive_activity.Heatmap) -> HeatGrid:
    """The SVG layout of ``heat`` (its days from a Monday-aligned :func:`year_span`). Pure."""
    first = heat.days[0].day
    cells = tuple(HeatCell(LEFT + ((d.day - first).days // 7) * PITCH, TOP + d.day.weekday() * PITCH,
                           d.day, d.sessions, d.prompts, d.level) for d in heat.days)
    starts = [(c.x, f"{c.day:%b}") for c in cells if c.day.day == 1]
    months = [(LEFT, f"{first:%b}")] if first.day != 1 and (not starts or starts[0][0] - LEFT >= 3 * PITCH) else []
    months += starts  # a partial first month is named only when it has room before the next name
    weeks = (heat.days[-1].day - first).days // 7 + 1
    active = tuple(c for c in cells if c.prompts or c.sessions)
    return HeatGrid(cells, tuple(months), tuple((TOP + row * PITCH + CELL - 1, name) for row, name in WEEKDAY_LABELS),
                    LEFT + weeks * PITCH, TOP + 7 * PITCH, first, heat.days[-1].day,
                    sum(c.prompts for c in cells), sum(c.sessions for c in cells), active)


def usage_chart(report: UsageReport, first: date, last: date, zone: tzinfo) -> dict[str, Any]:
    """``{x, series, log}`` for app.js: every day from ``first`` to ``last`` (local midnight, unix seconds),
    zero where nothing was used; ``log``: drawn on a log scale (cache reads are 10-1000x the rest). Pure."""
    by_day = {r.key: r for r in report.rows}
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return {"x": [int(datetime.combine(d, time(), zone).timestamp()) for d in span], "log": True,
            "series": [{"label": label, "values": [getattr(by_day[d.isoformat()], field)
                                                   if d.isoformat() in by_day else 0 for d in span]}
                       for label, field in USAGE_SERIES]}


def usage_label(report: UsageReport, first: date, last: date) -> str:
    """The chart's text alternative: the period's totals per kind of token. Pure."""
    totals = ", ".join(f"{label.lower()} {getattr(report.totals, field):,}" for label, field in USAGE_SERIES)
    return f"Tokens per day from {first:%d %b %Y} to {last:%d %b %Y} (log scale): {totals}."


def usage_query(until: date, days: int, agent: str | None) -> str:
    """The query string of a usage choice (the page's ``until``, ``days`` and ``agent``). Pure."""
    return urlencode({"until": until.isoformat(), "days": days, **({"agent": agent} if agent else {})})


def parse_usage_choice(days: str, agent: str) -> tuple[int, str | None]:
    """The panel's range (default 30 days) and agent ("" for both); Invalid naming a bad value. Pure."""
    try:
        count = int(days) if days else 30
    except ValueError:
        raise Invalid(f"days must be one of {', '.join(map(str, usage.RANGES))}, not {days!r}") from None
    if count not in usage.RANGES:
        raise Invalid(f"days must be one of {', '.join(map(str, usage.RANGES))}, not {days!r}")
    if agent and agent not in usage.AGENTS:
        raise Invalid(f"agent must be claude or codex, not {agent!r}")
    return count, agent or None


@dataclass(frozen=True)
class Turn:
    """A turn with the tool calls made during it."""

    turn: TurnView
    calls: tuple[ToolCallView, ...]


def _stamp(ts: str | None) -> datetime | None:
    try:
        return from_db(ts) if ts else None
    except ValueError:
        return None


def with_calls(turns: Sequence[TurnView], calls: Sequence[ToolCallView]) -> tuple[tuple[Turn, ...],
                                                                                  tuple[ToolCallView, ...]]:
    """Each of ``calls`` under the last turn started at or before it; those before every turn or
    without a time are returned apart. Pure."""
    starts = [_stamp(t.started_ts) for t in turns]
    grouped: list[list[ToolCallView]] = [[] for _ in turns]
    loose: list[ToolCallView] = []
    for call in calls:
        at = _stamp(call.called_ts)
        index = max((i for i, s in enumerate(starts) if s is not None and at is not None and s <= at), default=None)
        (loose if index is None else grouped[index]).append(call)
    return tuple(Turn(t, tuple(g)) for t, g in zip(turns, grouped, strict=True)), tuple(loose)


def is_long(text: str | None) -> bool:
    """Whether a tool input or result is shown collapsed. Pure."""
    return bool(text) and (len(text or "") > LONG_OUTPUT or (text or "").count("\n") >= LONG_LINES)


def parse_day(value: str | None) -> date | None:
    """``YYYY-MM-DD`` or None; Invalid naming the value otherwise. Pure."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"until must be a day like 2026-03-31, not {value!r}") from None


# -- routes ------------------------------------------------------------------------------------------------


def _zone(ui: Ui) -> tzinfo:
    return resolve_timezone(ui.engine.config.general.timezone)


def _today(ui: Ui) -> date:
    return ui.engine.now().astimezone(_zone(ui)).date()


def _span(ui: Ui, until: date | None) -> tuple[date, date]:
    return year_span(min(until, _today(ui)) if until else _today(ui))


def _overview(ui: Ui, last: date, days: int, agent: str | None) -> UsageOverview:
    with connected(ui.engine) as db:
        return usage.usage_overview(db, ui.engine.config, today=last, days=days, agent=agent)


def _panel(ui: Ui, last: date, days: int, agent: str | None) -> dict[str, Any]:
    """The usage panel's template context."""
    found = _overview(ui, last, days, agent)
    first = last - timedelta(days=days - 1)
    report = found.days
    return {"usage": report, "usage_first": first, "usage_last": last, "usage_days": days,
            "usage_agent": agent or "", "usage_label": usage_label(report, first, last),
            "usage_projects": found.top_projects(TOP_PROJECTS), "usage_models": found.top_models(TOP_MODELS),
            "usage_url": f"/ui/archive/usage.json?{usage_query(last, days, agent)}",
            "usage_ranges": [(n, usage_query(last, n, agent)) for n in usage.RANGES],
            "usage_agents": [(value, text, usage_query(last, days, value or None)) for value, text in AGENT_CHOICES]}


@router.get("/ui/archive", response_class=HTMLResponse)
def archive_page(request: Request, ui: UiDep, q: str = "", until: str = "", days: str = "",
                 agent: str = "") -> HTMLResponse:
    """The Archive page: heatmap, search, recent sessions, token usage."""
    problems: list[str] = []
    try:
        day = parse_day(until)
    except Invalid as exc:
        problems.append(str(exc))
        day = None
    try:
        usage_days, usage_agent = parse_usage_choice(days, agent)
    except Invalid as exc:
        problems.append(str(exc))
        usage_days, usage_agent = 30, None
    first, last = _span(ui, day)
    query = q.strip()
    hits: tuple[archive.SearchHit, ...] = ()
    if len(query) > MAX_QUERY:
        problems.append(f"the search is {len(query)} characters long; at most {MAX_QUERY} are allowed")
    elif query:
        try:
            with connected(ui.engine) as db:
                hits = archive.search(db, query, limit=RESULTS, marks=MARKS)
        except Invalid as exc:
            problems.append(str(exc))
    with connected(ui.engine) as db:
        recent = archive.list_sessions(db, limit=RECENT)
    grid = heat_grid(archive_activity.heatmap(ui.engine, (last - first).days + 1, until=last))
    today = _today(ui)
    later = min(last + timedelta(weeks=WEEKS), today)
    return ui.page(request, "archive.html", status_code=400 if problems else 200, title="Archive",
                   problems=problems, query=query, hits=[(h, highlight(h.snippet)) for h in hits], recent=recent,
                   grid=grid, **_panel(ui, last, usage_days, usage_agent),
                   earlier=(first - timedelta(days=1)).isoformat(),
                   later=None if last >= today else ("" if later >= today else later.isoformat()))


def _choice(ui: Ui, until: str, days: str, agent: str) -> tuple[date, int, str | None]:
    _, last = _span(ui, parse_day(until))
    return (last, *parse_usage_choice(days, agent))


@router.get("/ui/archive/usage", response_class=HTMLResponse)
def usage_panel(request: Request, ui: UiDep, until: str = "", days: str = "", agent: str = "") -> HTMLResponse:
    """The token-usage panel alone (htmx swaps it in when the range or the agent changes)."""
    try:
        last, count, who = _choice(ui, until, days, agent)
    except Invalid as exc:
        return HTMLResponse(f'<p class="problems" role="alert">Error: {escape(str(exc))}</p>', status_code=400)
    return ui.page(request, "partials/archive_usage.html", **_panel(ui, last, count, who))


@router.get("/ui/archive/usage.json")
def usage_json(ui: UiDep, until: str = "", days: str = "", agent: str = "") -> JSONResponse:
    """Token use per day over the panel's range ending ``until`` (default today), for the chart."""
    try:
        last, count, who = _choice(ui, until, days, agent)
    except Invalid as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    first = last - timedelta(days=count - 1)
    with connected(ui.engine) as db:
        report = usage.usage_for(db, ui.engine.config, group_by="day", since=first.isoformat(),
                                 until=last.isoformat(), agent=who)
    return JSONResponse(usage_chart(report, first, last, _zone(ui)))


@router.get("/ui/archive/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, ui: UiDep, session_id: str, agent: str = "") -> HTMLResponse:
    """One archived session (full id or unique prefix), or with ``agent`` one of its subagents."""
    detail: SessionDetail | SubagentDetail
    children: tuple[ArchivedSession, ...] = ()
    try:
        with connected(ui.engine) as db:
            if agent:
                detail = archive.show_subagent(db, session_id, agent)
            else:
                detail = archive.show_session(db, session_id)
                children = archive.child_sessions(db, detail.session.session_id)
    except NotFound as exc:
        return ui.page(request, "session.html", status_code=404, title="Archive", missing=str(exc), agent=None)
    if isinstance(detail, SubagentDetail):
        turns, loose = with_calls(detail.turns, detail.tool_calls)
        subagents: tuple[archive.Subagent, ...] = ()
    else:
        subagents = detail.subagents
        known = {a.agent_id for a in subagents}
        turns, loose = with_calls(detail.turns, [c for c in detail.tool_calls if not c.agent_id])
        loose += tuple(c for c in detail.tool_calls if c.agent_id and c.agent_id not in known)
    return ui.page(request, "session.html", title="Archive", missing=None, session=detail.session,
                   agent=detail.agent if isinstance(detail, SubagentDetail) else None, turns=turns, loose=loose,
                   subagents=subagents, children=children, is_long=is_long,
                   spawned={a.tool_use_id: a.agent_id for a in subagents if a.tool_use_id})
