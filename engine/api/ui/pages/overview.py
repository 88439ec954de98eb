"""``GET /ui/``: the Overview page: health in words and an icon, and the counters (needing
attention, snoozed, paused until, channels ok), which update live through the event stream
(the ``status`` fragment, partials/overview_status.html)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engine.actions import instance
from engine.api.ui import stream
from engine.api.ui.context import Ui, UiDep
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

    @classmethod
    def of(cls, snap: Snapshot) -> OverviewStatus:
        words, icon = HEALTH_WORDS.get(snap.state, (snap.state.value, "?"))
        return cls(state=snap.state.value, words=words, icon=icon, reasons=tuple(snap.health.reasons),
                   attention=snap.alerts.attention, snoozed=snap.alerts.snoozed, paused_until=snap.paused_until,
                   channels_ok=sum(c.state == OK_CHANNEL for c in snap.channels),
                   channels_total=len(snap.channels))


def render_status(ui: Ui, snap: Snapshot) -> str:
    """The ``status`` fragment for ``snap`` (sent by the event stream, included by the page)."""
    return ui.templates.get_template("partials/overview_status.html").render(status=OverviewStatus.of(snap))


stream.FRAGMENTS["status"] = render_status

router = APIRouter()


@router.get("/ui")
def ui_root() -> RedirectResponse:
    """/ui is the Overview too."""
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/", response_class=HTMLResponse)
def overview(request: Request, ui: UiDep) -> HTMLResponse:
    """The Overview page."""
    snap = instance.status(ui.engine).snapshot
    return ui.page(request, "overview.html", title="Overview", status=OverviewStatus.of(snap))
