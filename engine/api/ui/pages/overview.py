"""``GET /ui/``: the Overview page: health in words and an icon, the counters (needing attention,
snoozed, paused until, channels ok), each check as a row with its status strips of the last 24 h and
7 d, its last and next run, and a live feed of events (decisions, deliveries, recoveries).

Live updates ride the event stream's ``status`` event: the status fragment is swapped in directly
(partials/overview_status.html); the check rows and the feed are fetched on that event
(``hx-trigger="sse:status"``): ``GET /ui/overview/checks`` re-renders the rows, ``GET /ui/overview/feed``
returns only the events after the page's cursor (prepended) and the new cursor (out of band).

Page actions (htmx posts, answered with a fragment saying what happened plus the new state out of
band): ``POST /ui/overview/run`` (Run all checks), ``POST /ui/overview/pause`` (``choice`` = 1h,
morning or custom with ``custom`` = a duration or a clock time), ``POST /ui/overview/resume``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engine.actions import activity, checks, instance, pausing
from engine.actions import overview as overview_actions
from engine.actions.errors import ActionError, Invalid
from engine.actions.history import Cell
from engine.api.ui import stream
from engine.api.ui.context import Ui, UiDep
from engine.api.ui.form_body import FormDep
from engine.api.ui.strips import strip_view
from engine.checks.service import CheckOutcome, CheckRun
from engine.health import Health

if TYPE_CHECKING:
    from engine.snapshot import Snapshot

# Words and icon per health state: the icon's shape differs too, never colour alone.
HEALTH_WORDS = {
    Health.OK: ("All good", "✓"),
    Health.ATTENTION: ("Needs attention", "!"),
    Health.DEGRADED: ("Something is broken", "✕"),
    Health.PAUSED: ("Alerts paused", "❚❚"),
    Health.STARTING: ("Starting", "…"),
}
OK_CHANNEL = "ok"
FEED_LIMIT = 50
RUN_TRIGGER = "dashboard"  # how check runs asked for on the dashboard are recorded
PAUSE_CHOICES = ("1h", "morning", "custom")
# the last run's outcome in words (and the strip cell it draws as)
OUTCOME_WORDS = {CheckOutcome.OK: ("ok", Cell.OK), CheckOutcome.FIRING: ("alert", Cell.ALERT),
                 CheckOutcome.ERROR: ("error", Cell.ERROR)}


@dataclass(frozen=True)
class OverviewStatus:
    """What the status fragment shows, from a snapshot. Pure."""

    state: str
    words: str
    icon: str
    reasons: tuple[str, ...]
    attention: int
    snoozed: int
    paused_until: datetime | None
    channels_ok: int
    channels_total: int
    presence: str = "unknown"  # "away (idle for 14 min)"

    @classmethod
    def of(cls, snap: Snapshot) -> OverviewStatus:
        words, icon = HEALTH_WORDS.get(snap.state, (snap.state.value, "?"))
        return cls(state=snap.state.value, words=words, icon=icon, reasons=tuple(snap.health.reasons),
                   attention=snap.alerts.attention, snoozed=snap.alerts.snoozed, paused_until=snap.paused_until,
                   channels_ok=sum(c.state == OK_CHANNEL for c in snap.channels),
                   channels_total=len(snap.channels),
                   presence=f"{snap.presence.presence.value} ({snap.presence.reason})" if snap.presence else "unknown")


def render_status(ui: Ui, snap: Snapshot) -> str:
    """The ``status`` fragment for ``snap`` (sent by the event stream, included by the page)."""
    return ui.templates.get_template("partials/overview_status.html").render(status=OverviewStatus.of(snap))


stream.FRAGMENTS["status"] = render_status


def outcome_words(outcome: str | None) -> tuple[str, str]:
    """(word, strip cell class) of a stored run outcome; ("never run", no-run) for None. Pure."""
    if outcome is None:
        return "never run", Cell.NO_RUN.value.replace(" ", "-")
    word, cell = OUTCOME_WORDS.get(outcome, (outcome, Cell.NO_RUN))  # type: ignore[call-overload]
    return word, cell.value.replace(" ", "-")


def check_rows(ui: Ui) -> list[dict[str, Any]]:
    """The overview's check rows as the template draws them."""
    zone = pausing.user_zone(ui.engine)
    rows = []
    for row in overview_actions.check_rows(ui.engine):
        last = row.last_run
        word, cell = outcome_words(last.outcome if last else None)
        rows.append({"name": row.name, "title": check_title(row.name), "kind": row.kind, "enabled": row.enabled,
                     "schedule": row.schedule, "running": row.running, "next_run": row.next_run,
                     "last_at": last.finished_at if last else None, "last_word": word, "last_cell": cell,
                     "last_findings": len(last.findings) if last else 0,
                     "strips": [strip_view(s, zone) for s in row.strips]})
    return rows


def check_title(name: str) -> str:
    """A check's name in words: ``stale_applications`` -> ``Stale applications``. Pure."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def run_summary(runs: tuple[CheckRun, ...]) -> str:
    """``3 checks run: 1 alert, 1 error`` (``no alerts`` when nothing fired). Pure."""
    n = len(runs)
    alerts = sum(r.outcome == CheckOutcome.FIRING for r in runs)
    errors = sum(r.outcome == CheckOutcome.ERROR for r in runs)
    head = f"{n} check{'s' if n != 1 else ''} run"
    if not n:
        return "No enabled checks to run"
    parts = [f"{alerts} alert{'s' if alerts != 1 else ''}"] if alerts else []
    parts += [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    return f"{head}: {', '.join(parts) if parts else 'no alerts'}"


router = APIRouter()


@router.get("/ui")
def ui_root() -> RedirectResponse:
    """/ui is the Overview too."""
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/", response_class=HTMLResponse)
def overview(request: Request, ui: UiDep) -> HTMLResponse:
    """The Overview page."""
    snap = instance.status(ui.engine).snapshot
    return ui.page(request, "overview.html", title="Overview", status=OverviewStatus.of(snap),
                   rows=check_rows(ui), feed=activity.feed(ui.engine, limit=FEED_LIMIT))


@router.get("/ui/overview/checks", response_class=HTMLResponse)
def overview_checks(request: Request, ui: UiDep) -> HTMLResponse:
    """The check rows (a fragment: the table body)."""
    return ui.page(request, "partials/overview_checks.html", rows=check_rows(ui))


@router.get("/ui/overview/feed", response_class=HTMLResponse)
def overview_feed(request: Request, ui: UiDep, after: str = "") -> HTMLResponse:
    """The feed's events after the cursor ``after`` (prepended by the page) and the new cursor (out of band)."""
    try:
        feed = activity.feed(ui.engine, after=after, limit=FEED_LIMIT)
    except ActionError as exc:
        return ui.page(request, "partials/action_result.html", ok=False, message=str(exc))
    return ui.page(request, "partials/overview_feed.html", feed=feed, oob=True)


@router.post("/ui/overview/run", response_class=HTMLResponse)
def run_all(request: Request, ui: UiDep) -> HTMLResponse:
    """Run every enabled check now (blocks until they ran); what they found, and the new rows."""
    try:
        runs = checks.run_checks(ui.engine, None, RUN_TRIGGER).runs
    except ActionError as exc:
        return ui.page(request, "partials/action_result.html", ok=False, message=str(exc))
    return ui.page(request, "partials/overview_run.html", ok=True, message=run_summary(runs), runs=runs,
                   rows=check_rows(ui), status=OverviewStatus.of(instance.status(ui.engine).snapshot))


@router.post("/ui/overview/pause", response_class=HTMLResponse)
def pause(request: Request, ui: UiDep, form: FormDep) -> HTMLResponse:
    """Pause alerts for 1 h, until tomorrow 08:00, or for / until a custom value."""
    choice, custom = form.text("choice"), form.text("custom")
    try:
        if choice == "1h":
            state = instance.pause(ui.engine, "1h")
        elif choice == "morning":
            state = pausing.pause_until_morning(ui.engine)
        elif choice == "custom":
            state = pausing.pause_custom(ui.engine, custom)
        else:
            raise Invalid(f"pause choice must be one of {', '.join(PAUSE_CHOICES)}, not {choice!r}")
    except ActionError as exc:
        return ui.page(request, "partials/action_result.html", ok=False, message=str(exc))
    return _pause_answer(request, ui, state)


@router.post("/ui/overview/resume", response_class=HTMLResponse)
def resume(request: Request, ui: UiDep) -> HTMLResponse:
    """Resume alerts."""
    try:
        state = instance.resume(ui.engine)
    except ActionError as exc:
        return ui.page(request, "partials/action_result.html", ok=False, message=str(exc))
    return _pause_answer(request, ui, state)


def _pause_answer(request: Request, ui: UiDep, state: instance.PauseState) -> HTMLResponse:
    return ui.page(request, "partials/overview_pause.html", ok=True, paused_until=state.paused_until,
                   status=OverviewStatus.of(instance.status(ui.engine).snapshot))
