"""The dashboard's pure-ASGI guard for every path under /ui (engine.api.http.Guard has already
checked the Host header; the bearer token is not used here, and the UI cookie opens nothing else).

- Every non-GET request needs ``Origin`` = ``http://127.0.0.1:PORT`` or ``http://localhost:PORT``
  (or, without Origin, ``Sec-Fetch-Site: same-origin``) and the header ``X-WK-UI: 1``, else 403:
  cookies are not isolated by port, so another local web app is same-site and SameSite=Strict
  alone does not stop it; a custom header cannot be sent cross-origin without a CORS preflight,
  which we never answer.
- Every path except the login page, the static files and ``POST /ui/session`` needs a live session
  cookie, else 401 with the "Locked" page.
- Every /ui response carries the CSP below, ``nosniff``, ``no-referrer`` and same-origin COOP/CORP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request, cookie_parser

from engine.api.ui.session_table import cookie_name

if TYPE_CHECKING:
    from engine.api.ui.context import Ui

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
READ_METHODS = frozenset({"GET", "HEAD"})
OPEN_PATHS = frozenset({"/ui/login"})  # GET without a session
STATIC_PREFIX = "/ui/static/"
LOGIN_POST = "/ui/session"
UI_HEADER = "x-wk-ui"


def is_ui_path(path: str) -> bool:
    return path == "/ui" or path.startswith("/ui/")


def write_refusal(method: str, headers: Mapping[str, str], port: int) -> str | None:
    """Why a state-changing request is refused (None: it is allowed). Pure."""
    if method in READ_METHODS:
        return None
    origin = headers.get("origin")
    if origin is not None:
        if origin not in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            return "foreign origin"
    elif headers.get("sec-fetch-site") != "same-origin":
        return "no Origin header"
    if headers.get(UI_HEADER) != "1":
        return "missing X-WK-UI header"
    return None


def needs_session(method: str, path: str) -> bool:
    """Whether this request needs a live session cookie. Pure."""
    if path.startswith(STATIC_PREFIX):
        return False
    if method in READ_METHODS and path in OPEN_PATHS:
        return False
    return not (method == "POST" and path == LOGIN_POST)


class UiGuard:
    """Pure ASGI middleware (safe for streaming responses): the checks above on /ui paths only."""

    def __init__(self, app: Any, ui: Ui):
        self.app = app
        self.ui = ui

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_ui_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_secured(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in SECURITY_HEADERS if h[0] not in names)]
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        refusal = write_refusal(method, headers, self.ui.port)
        if refusal is not None:
            response: Any = self._forbidden(refusal)
        elif needs_session(method, path) and not self.ui.sessions.touch(self._session_id(headers)):
            response = self.ui.page(Request(scope), "locked.html", status_code=401)
        else:
            await self.app(scope, receive, send_secured)
            return
        await response(scope, receive, send_secured)

    def _session_id(self, headers: Mapping[str, str]) -> str | None:
        return cookie_parser(headers.get("cookie", "")).get(cookie_name(self.ui.port))

    @staticmethod
    def _forbidden(reason: str) -> Any:
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse(f"Forbidden: {reason}", status_code=403)
