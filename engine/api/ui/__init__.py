"""The dashboard: server-rendered pages under /ui of the local API (a front end like the routes:
each page parses, calls engine.actions and renders; nothing below the front ends imports it).

``mount_ui(app, engine, port=..., logins=...)`` (called once by engine.api.http.create_app) adds
the login and session routes (session.py), the event stream (stream.py), the routers of PAGES
(pages/*.py, one module per page), the static files at /ui/static (app assets and the vendored
libraries, public: /docs loads them too) and the guard (guard.py: session cookie, Origin and
X-WK-UI on writes, CSP). Templates and the ``time`` filter: render.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from engine.api.ui import session, stream
from engine.api.ui.context import Ui
from engine.api.ui.guard import UiGuard
from engine.api.ui.pages import alerts, applications, archive, checks, delivery, goals, overview
from engine.api.ui.render import templates
from engine.api.ui.session_table import Sessions
from engine.login_tokens import OneTimeTokens
from engine.timeutil import resolve_timezone

if TYPE_CHECKING:
    from engine.engine import Engine

# In navigation order: Overview, Checks, Alerts, Applications, Goals, Archive, Delivery.
PAGES = (overview, checks, alerts, applications, goals, archive, delivery)
# Beside this module in a checkout and in a PyInstaller build (pyinstaller.spec bundles it at the same path).
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/ui/static"


def mount_ui(app: FastAPI, engine: Engine, *, port: int, logins: OneTimeTokens) -> Ui:
    """Add the dashboard to ``app`` (before the API's outer Guard is added: it runs inside it)."""
    # engine is None only when the app is built for its OpenAPI schema alone
    zone = resolve_timezone(engine.config.general.timezone) if engine is not None else None
    ui = Ui(engine=engine, port=port, templates=templates(zone),
            sessions=Sessions(), logins=logins, closing=asyncio.Event())
    app.state.ui = ui
    app.state.ui_closing = ui.closing  # engine.api.server sets it when the server closes
    for router in (session.router, stream.router, *(page.router for page in PAGES)):
        app.include_router(router, include_in_schema=False)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="ui-static")
    app.add_middleware(UiGuard, ui=ui)
    return ui
