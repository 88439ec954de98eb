"""``/ui/goals``: the goals board (engine.actions.goals_board): domains, their goals with sub-goals
and dependencies, how stale each active goal is (in words and colour), a form to add a goal (its
domain named, created when new, as the CLI does) and per goal "Log progress" (a note and an
optional value) and "Done".

Writes call engine.actions.life; the add form answers with itself (cleared, or with the error) and
the board out of band; a goal's buttons answer with the board, the message next to that goal."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.actions import goals_board, life
from engine.actions.errors import ActionError, Invalid
from engine.actions.goals_board import GoalCard, GoalsBoard
from engine.actions.target import connected
from engine.api.ui.context import Ui, UiDep
from engine.api.ui.form_body import FormDep
from engine.life.goals import Domain

FIELDS = (("title", "Title"), ("domain", "Domain"), ("target", "Target date"))
_ACTION_FIELD = {"title": "title", "domain": "domain", "target_date": "target", "target": "target"}

router = APIRouter()


@dataclass(frozen=True)
class DomainGroup:
    """A domain (None: goals without one) and its goals, in creation order."""

    domain: Domain | None
    goals: tuple[GoalCard, ...]


@dataclass(frozen=True)
class Notice:
    """What happened to one goal after a button: ``error`` or a confirmation."""

    goal_id: int
    text: str
    error: bool


def groups(board: GoalsBoard) -> list[DomainGroup]:
    """The board's goals grouped by domain (by name; goals without a domain last). Pure."""
    result = [DomainGroup(d, tuple(c for c in board.goals if c.goal.goal.domain_id == d.id)) for d in board.domains]
    loose = tuple(c for c in board.goals if c.goal.goal.domain_id is None)
    return [*result, DomainGroup(None, loose)] if loose else result


def staleness_text(card: GoalCard) -> str:
    """``stale: 20 days without progress`` (empty when the goal is not stale). Pure."""
    if not card.stale:
        return ""
    return f"stale: {card.idle_days} day{'s' if card.idle_days != 1 else ''} without progress"


def parse_value(text: str) -> float | None:
    """The optional progress value typed in the form (Invalid naming the field). Pure."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"Value: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise Invalid("Value must be a finite number")
    return value


def field_of(message: str) -> str | None:
    """The add form's field an action's refusal names (its first word), if any. Pure."""
    first = message.split(" ", 1)[0].rstrip(":").lower()
    return _ACTION_FIELD.get(first) or next((n for n, label in FIELDS if message.startswith(label + ":")), None)


def _board_context(ui: Ui, notice: Notice | None = None) -> dict[str, Any]:
    board = goals_board.goals_board(ui.engine)
    titles = {c.goal.goal.id: c.goal.goal for c in board.goals}
    return {"groups": groups(board), "domains": board.domains, "titles": titles, "notice": notice,
            "staleness": staleness_text, "stale_after": board.stale_after_days}


def _render(ui: Ui, name: str, **context: Any) -> str:
    return ui.templates.get_template(f"partials/{name}").render(**context)


@router.get("/ui/goals", response_class=HTMLResponse)
def goals_page(request: Request, ui: UiDep) -> HTMLResponse:
    """The Goals page."""
    return ui.page(request, "goals.html", title="Goals", values={}, error=None, error_field=None, added=None,
                   oob=False, **_board_context(ui))


@router.post("/ui/goals", response_class=HTMLResponse)
def add_goal(ui: UiDep, form: FormDep) -> HTMLResponse:
    """Add a goal from the form (its domain by name, created when new)."""
    values = {name: form.text(name) for name, _ in FIELDS}
    try:
        target = life.parse_date("Target date", values["target"]) if values["target"] else None
        with connected(ui.engine) as db:
            added = life.create_goal(db, values["title"], now=ui.engine.now(), domain_name=values["domain"] or None,
                                     target_date=target)
    except ActionError as exc:
        context = _board_context(ui)
        return HTMLResponse(_render(ui, "goal_form.html", values=values, error=str(exc),
                                    error_field=field_of(str(exc)), added=None, domains=context["domains"]))
    ui.engine.publish()
    context = _board_context(ui)
    form_html = _render(ui, "goal_form.html", values={}, error=None, error_field=None, added=added,
                        domains=context["domains"])
    return HTMLResponse(form_html + _render(ui, "goals_board.html", oob=True, **context))


def _goal_action(ui: Ui, goal_id: int, act: Any, done_text: str) -> HTMLResponse:
    try:
        with connected(ui.engine) as db:
            act(db)
        ui.engine.publish()
        notice = Notice(goal_id, done_text, error=False)
    except ActionError as exc:
        notice = Notice(goal_id, str(exc), error=True)
    return HTMLResponse(_render(ui, "goals_board.html", oob=False, **_board_context(ui, notice)))


@router.post("/ui/goals/{goal_id}/progress", response_class=HTMLResponse)
def log_progress(goal_id: int, ui: UiDep, form: FormDep) -> HTMLResponse:
    """Log progress on a goal (a note and an optional value); answers the board."""
    note = form.text("note") or None
    try:
        value = parse_value(form.text("value"))
    except Invalid as exc:
        return HTMLResponse(_render(ui, "goals_board.html", oob=False,
                                    **_board_context(ui, Notice(goal_id, str(exc), error=True))))
    return _goal_action(ui, goal_id, lambda db: life.add_progress(db, goal_id, note, value, now=ui.engine.now()),
                        "Progress logged.")


@router.post("/ui/goals/{goal_id}/done", response_class=HTMLResponse)
def mark_done(goal_id: int, ui: UiDep) -> HTMLResponse:
    """Mark a goal done; answers the board."""
    return _goal_action(ui, goal_id, lambda db: life.update_goal(db, goal_id, status="done"), "Marked done.")
