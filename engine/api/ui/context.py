"""What every dashboard route receives: the engine, the port, the templates, the session table,
the one-time login tokens and the app-level stop event of the event streams (``Ui``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from engine.api.ui.session_table import Sessions
from engine.login_tokens import OneTimeTokens

if TYPE_CHECKING:
    from engine.engine import Engine


@dataclass
class Ui:
    engine: Engine
    port: int
    templates: Jinja2Templates
    sessions: Sessions
    logins: OneTimeTokens
    closing: asyncio.Event  # set when the API server closes: every event stream ends at once

    def page(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """The template ``name`` rendered with ``context`` (``request`` and ``nav`` added)."""
        return self.templates.TemplateResponse(request, name, {"nav": NAV, **context}, status_code=status_code)


# The navigation, in order: (link text, path). The names are part of the product (the wording).
NAV: tuple[tuple[str, str], ...] = (
    ("Overview", "/ui/"), ("Checks", "/ui/checks"), ("Alerts", "/ui/alerts"),
    ("Applications", "/ui/applications"), ("Goals", "/ui/goals"), ("Archive", "/ui/archive"),
    ("Delivery", "/ui/delivery"),
)


def get_ui(request: Request) -> Ui:
    ui: Ui = request.app.state.ui
    return ui


UiDep = Annotated[Ui, Depends(get_ui)]
