"""``/ui/alerts``: the Alerts page: alerts by state (tabs) and check (a select), newest first, paged,
the filters in the URL query so a link reproduces the view; each alert with its check in words,
subject, first seen, last notified and its deliveries per channel (actions.alert_list.alert_rows).

``POST /ui/alerts/{id}/acknowledge`` and ``POST /ui/alerts/{id}/snooze`` (form field ``duration``:
1h, 1d or what the person typed) call actions.alerts and answer the alert's row fragment
(partials/alert_row.html) for htmx to swap in; a refusal (unknown alert, resolved alert, bad
duration) answers the row with the action's message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engine.actions import alert_list, alerts, checks
from engine.actions.errors import ActionError, Invalid, NotFound
from engine.alerts.templates import check_label
from engine.api.ui.context import Ui, UiDep

PAGE_SIZE = 25
MAX_FORM_BODY = 2048  # bytes: the snooze form is one short field
# (tab text, state in the query; None: every state)
STATE_TABS: tuple[tuple[str, str | None], ...] = (
    ("All", None), ("Open", "open"), ("Acknowledged", "acknowledged"), ("Snoozed", "snoozed"),
    ("Resolved", "resolved"),
)
# An icon per state, shown next to the state's word (never colour or shape alone).
STATE_ICONS = {"open": "!", "acknowledged": "✓", "snoozed": "❚❚", "resolved": "○"}
QUICK_SNOOZES = (("1 h", "1h"), ("1 d", "1d"))
ROW_DEFAULTS: dict[str, Any] = {"quick_snoozes": QUICK_SNOOZES, "done": None, "refusal": None}


@dataclass(frozen=True)
class AlertView:
    """One alert row as the page shows it."""

    row: alert_list.AlertRow
    check_words: str
    icon: str

    @property
    def live(self) -> bool:
        return self.row.alert.state != "resolved"

    @classmethod
    def of(cls, row: alert_list.AlertRow) -> AlertView:
        return cls(row, check_label(row.alert.check_name), STATE_ICONS.get(row.alert.state, "?"))


@dataclass(frozen=True)
class Filters:
    """The view's query: state (None: all), check (None: all), 1-based page."""

    state: str | None
    check: str | None
    page: int

    def url(self, **changes: Any) -> str:
        """/ui/alerts with these filters (``changes`` replace some; a new filter starts at page 1)."""
        values = {"state": self.state, "check": self.check, "page": self.page, **changes}
        if "page" not in changes:
            values["page"] = 1
        query = {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}
        return "/ui/alerts" + (f"?{urlencode(query)}" if query else "")


def parse_filters(state: str | None, check: str | None, page: str | None) -> Filters:
    """The filters from the query text; Invalid naming a bad page number. Pure."""
    number = 1
    if page not in (None, ""):
        if not page.isdigit() or int(page) < 1:
            raise Invalid(f"page must be a whole number from 1, not {page!r}")
        number = int(page)
    return Filters(state or None, check or None, number)


router = APIRouter()


@router.get("/ui/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, ui: UiDep, state: str | None = None, check: str | None = None,
                page: str | None = None) -> HTMLResponse:
    """The Alerts page for the filters in the query (400 with the message for a bad filter)."""
    names = [c.name for c in checks.list_checks(ui.engine)]
    try:
        filters = parse_filters(state, check, page)
        listing = alert_list.alert_rows(ui.engine, state=filters.state, check=filters.check, limit=PAGE_SIZE,
                                        offset=(filters.page - 1) * PAGE_SIZE)
    except ActionError as exc:
        filters = Filters(None, None, 1)
        return ui.page(request, "alerts.html", status_code=400, title="Alerts", error=str(exc), filters=filters,
                       tabs=STATE_TABS, checks=names, views=(), total=0, pages=1, **ROW_DEFAULTS)
    if filters.check and filters.check not in names:
        names.append(filters.check)  # a check no longer configured still has its history
    pages = max(1, -(-listing.total // PAGE_SIZE))
    return ui.page(request, "alerts.html", title="Alerts", error=None, filters=filters, tabs=STATE_TABS,
                   checks=names, views=tuple(AlertView.of(r) for r in listing.items), total=listing.total,
                   pages=pages, **ROW_DEFAULTS)


@router.post("/ui/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(alert_id: int, ui: UiDep) -> Response:
    """Acknowledge the alert; its row (with the refusal's message when it could not be)."""
    try:
        alerts.acknowledge(ui.engine, alert_id)
    except ActionError as exc:
        return row_response(ui, alert_id, refusal=str(exc))
    return row_response(ui, alert_id, done="acknowledged")


@router.post("/ui/alerts/{alert_id}/snooze", response_class=HTMLResponse)
async def snooze(alert_id: int, request: Request, ui: UiDep) -> Response:
    """Snooze the alert for the form's ``duration``; its row (with the refusal's message when refused)."""
    fields = await form_fields(request)
    if fields is None:
        return HTMLResponse("request body too large", status_code=413)
    return await anyio.to_thread.run_sync(snoozed_row, ui, alert_id, fields.get("duration", "").strip())


def snoozed_row(ui: Ui, alert_id: int, length: str) -> HTMLResponse:
    """Snooze the alert for ``length``; its row, saying so or why not."""
    try:
        if not length:
            raise Invalid("type a duration to snooze for, such as 30m, 2h or 3d")
        alerts.snooze(ui.engine, alert_id, length)
    except ActionError as exc:
        return row_response(ui, alert_id, refusal=str(exc))
    return row_response(ui, alert_id, done="snoozed")


async def form_fields(request: Request) -> dict[str, str] | None:
    """The url-encoded form of ``request`` (first value per field); None when over MAX_FORM_BODY."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BODY:
            return None
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def row_response(ui: Ui, alert_id: int, *, done: str | None = None, refusal: str | None = None) -> HTMLResponse:
    """The row fragment of one alert as it is now (or a row with the message when there is no such alert)."""
    try:
        row = alert_list.alert_row(ui.engine, alert_id)
    except NotFound as exc:
        return HTMLResponse(ui.templates.get_template("partials/alert_missing.html").render(
            alert_id=alert_id, refusal=refusal or str(exc)))
    html = ui.templates.get_template("partials/alert_row.html").render(
        view=AlertView.of(row), done=done, refusal=refusal, quick_snoozes=QUICK_SNOOZES)
    return HTMLResponse(html)
