"""The Checks pages: ``GET /ui/checks`` (every configured check: name in words, kind, schedule,
enabled, last run and its outcome, the 24 h strip) and ``GET /ui/checks/{name}`` (its configuration,
read-only with secrets hidden; "Run now"; the ``check why`` explanation; the uptime-style summary per
24 h / 7 d / 30 d with their strips; the decision history, paged with ``?offset=``; the findings of
the last run). ``POST /ui/checks/{name}/run`` runs it now and answers with what it found, the new
explanation and last run (out of band)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.actions import check_config, checks, history, pausing
from engine.actions.errors import ActionError, NotFound
from engine.actions.history import SPANS
from engine.api.ui.context import Ui, UiDep
from engine.api.ui.pages.overview import RUN_TRIGGER, check_title, outcome_words, run_summary
from engine.api.ui.strips import SPAN_WORDS, strip_view

DECISIONS_PER_PAGE = 20
LIST_SPAN = "24h"

router = APIRouter()


def shown_value(value: Any) -> str:
    """A parameter value as text: strings as they are, everything else as JSON. Pure."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _list_rows(ui: Ui) -> list[dict[str, Any]]:
    zone = pausing.user_zone(ui.engine)
    rows = []
    for info in checks.list_checks(ui.engine):
        word, cell = outcome_words(info.last_outcome)
        rows.append({"name": info.name, "title": check_title(info.name), "kind": info.kind,
                     "schedule": info.schedule, "enabled": info.enabled, "last_at": info.last_run,
                     "last_word": word, "last_cell": cell, "last_findings": info.last_findings or 0,
                     "strip": strip_view(history.status_strip(ui.engine, info.name, LIST_SPAN), zone)})
    return rows


@router.get("/ui/checks", response_class=HTMLResponse)
def check_list(request: Request, ui: UiDep) -> HTMLResponse:
    """Every configured check."""
    return ui.page(request, "checks.html", title="Checks", rows=_list_rows(ui))


def _last_run(ui: Ui, name: str) -> dict[str, Any]:
    last = history.last_run(ui.engine, name)
    word, cell = outcome_words(last.outcome if last else None)
    return {"run": last, "last_word": word, "last_cell": cell, "last_findings": len(last.findings) if last else 0}


def _why_text(ui: Ui, name: str) -> str:
    return checks.why(ui.engine, name).text()


@router.get("/ui/checks/{name}", response_class=HTMLResponse)
def check_page(request: Request, ui: UiDep, name: str, offset: int = 0) -> HTMLResponse:
    """One check (404 with the known checks named when there is no such check)."""
    try:
        config = check_config.check_config(ui.engine, name)
        decisions = history.decisions(ui.engine, name, limit=DECISIONS_PER_PAGE, offset=max(offset, 0))
    except NotFound as exc:
        return ui.page(request, "check_missing.html", status_code=404, title="Checks", message=str(exc))
    except ActionError as exc:
        return ui.page(request, "check_missing.html", status_code=400, title="Checks", message=str(exc))
    zone = pausing.user_zone(ui.engine)
    uptime = [{"span": u.span, "words": SPAN_WORDS.get(u.span, u.span), "u": u,
               "strip": strip_view(history.status_strip(ui.engine, name, u.span), zone)}
              for u in history.uptime(ui.engine, name) if u.span in SPANS]
    params = [(key, shown_value(value)) for key, value in config.params.items()]
    return ui.page(request, "check.html", title="Checks", heading=check_title(name), check=name,
                   info=config.check, params=params, why=_why_text(ui, name), uptime=uptime,
                   decisions=decisions, last=_last_run(ui, name))


@router.post("/ui/checks/{name}/run", response_class=HTMLResponse)
def run_now(request: Request, ui: UiDep, name: str) -> HTMLResponse:
    """Run the check now (blocks until it ran): what it found, the new explanation and last run."""
    try:
        runs = checks.run_checks(ui.engine, [name], RUN_TRIGGER).runs
    except ActionError as exc:
        return ui.page(request, "partials/action_result.html", ok=False, message=str(exc))
    return ui.page(request, "partials/check_run.html", ok=True, message=run_summary(runs), runs=runs,
                   why=_why_text(ui, name), last=_last_run(ui, name))
