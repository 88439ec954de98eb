"""Dashboard login routes: the login page and the session endpoint (the cookie for a one-time token).

- ``GET /ui/login``: the login page; static/login.js reads the one-time token from the URL's
  fragment (``#t=...``, never sent to a server or kept in history), removes it from the address
  bar and posts it to ``POST /ui/session``.
- ``POST /ui/session`` ``{"token": ...}``: redeems the token (engine.login_tokens: 60 s, single
  use) and answers 204 with the session cookie ``wk_ui_<port>`` (HttpOnly, SameSite=Strict,
  Path=/; no Secure: the origin is loopback http). A used or expired token is 401.
- ``GET /ui/session``: 204 with a live session, 401 without (the pages' scripts ask after an
  event stream failed, e.g. after the instance restarted: sessions live in memory).

The session table itself is engine/api/ui/session_table.py."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from engine.api.ui.context import UiDep
from engine.api.ui.session_table import SESSION_IDLE_SECONDS, cookie_name

MAX_LOGIN_BODY = 1024  # bytes: {"token": "..."} is about 60
USED_OR_EXPIRED = "this login link was already used or has expired"


router = APIRouter()


@router.get("/ui/login")
def login_page(request: Request, ui: UiDep) -> Response:
    """The page the one-time URL opens; login.js does the rest."""
    return ui.page(request, "login.html")


@router.post("/ui/session")
async def open_session(request: Request, ui: UiDep) -> Response:
    """Trade a one-time token for a session cookie."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return JSONResponse({"detail": "request body too large"}, status_code=413)
    try:
        token = json.loads(body or b"{}").get("token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        return JSONResponse({"detail": "expected {\"token\": \"...\"}"}, status_code=422)
    if not ui.logins.redeem(token):
        return JSONResponse({"detail": USED_OR_EXPIRED}, status_code=401)
    response = Response(status_code=204)
    response.set_cookie(cookie_name(ui.port), ui.sessions.create(), max_age=SESSION_IDLE_SECONDS, path="/",
                        httponly=True, samesite="strict", secure=False)
    return response


@router.get("/ui/session")
def session_state() -> Response:
    """204: the guard let the request through, so the cookie names a live session."""
    return Response(status_code=204)
