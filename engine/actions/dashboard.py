"""Dashboard actions: the one-time login URL of the running instance's dashboard.

The dashboard is served by the local API (engine/api/ui/); its server holds the instance's
:class:`~engine.login_tokens.OneTimeTokens`. The tray calls :func:`login_url` in process; the CLI
(`watchkeeper dashboard`) asks the instance through the control command ``dashboard-login``."""

from __future__ import annotations

from typing import Any

from engine.actions.errors import Unavailable
from engine.actions.target import Instance
from engine.login_tokens import OneTimeTokens

LOGIN_PATH = "/ui/login"
API_OFF = "the dashboard needs the local API, which is off: set [api] enabled = true in config.toml and restart"


def _dashboard_server(target: Instance) -> Any:
    """The running service that serves the dashboard (the API server), or None."""
    for service in getattr(target, "services", ()):
        if isinstance(getattr(service, "logins", None), OneTimeTokens):
            return service
    return None


def login_url(target: Instance) -> str:
    """``http://127.0.0.1:PORT/ui/login#t=TOKEN`` with a fresh one-time token (60 s, single use).

    Unavailable when the API is off or could not start (the message says why)."""
    server = _dashboard_server(target)
    if server is None:
        raise Unavailable(API_OFF)
    if not server.url:
        raise Unavailable(f"the dashboard is not available: {server.problem or 'the local API is not serving'}")
    return f"{server.url}{LOGIN_PATH}#t={server.logins.mint()}"
