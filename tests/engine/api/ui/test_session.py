"""Dashboard login: a one-time token for a session cookie, and the Locked page without one."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from engine.api.ui import PAGES
from engine.api.ui.session_table import SESSION_IDLE_SECONDS, Sessions
from engine.login_tokens import MAX_PENDING, OneTimeTokens

from .conftest import COOKIE, post_token

LOCKED = "Locked: open the dashboard from the Watchkeeper tray menu (or run <code>watchkeeper dashboard</code>)"


def _ui_get_pages() -> list[str]:
    """Every GET route of every page module (a path parameter filled with "x")."""
    return [re.sub(r"\{[^}]+\}", "x", route.path) for page in PAGES for route in page.router.routes
            if isinstance(route, APIRoute) and "GET" in route.methods]


def test_a_token_logs_in_once_and_the_second_use_is_refused(visitor, logins):
    token = logins.mint()
    first = post_token(visitor, token)
    assert first.status_code == 204
    assert COOKIE in visitor.cookies
    assert visitor.get("/ui/").status_code == 200
    visitor.cookies.clear()
    second = post_token(visitor, token)
    assert second.status_code == 401
    assert second.json()["detail"] == "this login link was already used or has expired"
    assert COOKIE not in visitor.cookies


def test_an_expired_token_is_refused():
    now = [1000.0]
    tokens = OneTimeTokens(clock=lambda: now[0])
    token = tokens.mint()
    now[0] += 60.0
    assert not tokens.redeem(token)


def test_a_token_is_good_until_it_expires_and_only_once():
    now = [1000.0]
    tokens = OneTimeTokens(clock=lambda: now[0])
    token = tokens.mint()
    now[0] += 59.0
    assert not tokens.redeem(token + "x")
    assert tokens.redeem(token)
    assert not tokens.redeem(token)


def test_only_the_newest_pending_tokens_are_kept():
    tokens = OneTimeTokens()
    minted = [tokens.mint() for _ in range(MAX_PENDING + 1)]
    assert not tokens.redeem(minted[0])
    assert tokens.redeem(minted[-1])


def test_a_wrong_or_malformed_token_gets_no_cookie(visitor):
    assert post_token(visitor, "not-a-token").status_code == 401
    answer = visitor.post("/ui/session", content=b"{nope", headers={"Origin": "http://127.0.0.1:18765", "X-WK-UI": "1"})
    assert answer.status_code == 422
    big = visitor.post("/ui/session", content=b"x" * 5000, headers={"Origin": "http://127.0.0.1:18765", "X-WK-UI": "1"})
    assert big.status_code == 413
    assert COOKIE not in visitor.cookies


def test_the_session_cookie_is_httponly_strict_and_per_port(visitor, logins):
    answer = post_token(visitor, logins.mint())
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    parts = {p.strip().split("=")[0].lower(): p.strip() for p in cookie.split(";")}
    assert "httponly" in parts
    assert parts["samesite"].lower() == "samesite=strict"
    assert parts["path"] == "Path=/"
    assert "secure" not in parts
    assert parts["max-age"] == f"Max-Age={SESSION_IDLE_SECONDS}"


def test_every_page_without_a_session_is_locked_and_says_how_to_open_it(visitor):
    pages = _ui_get_pages()
    assert "/ui/" in pages
    for path in [*pages, "/ui/events", "/ui/no-such-page"]:
        answer = visitor.get(path)
        assert answer.status_code == 401, path
        assert LOCKED in answer.text, path
    assert visitor.get("/ui/session").status_code == 401


def test_a_foreign_or_stale_cookie_is_locked_too(visitor):
    visitor.cookies.set(COOKIE, "made-up")
    assert visitor.get("/ui/").status_code == 401


def test_the_login_page_and_static_files_need_no_session(visitor):
    page = visitor.get("/ui/login")
    assert page.status_code == 200
    assert '<script type="module" src="/ui/static/login.js"></script>' in page.text
    assert visitor.get("/ui/static/app.css").status_code == 200
    assert visitor.get("/ui/static/login.js").status_code == 200


def test_a_session_answers_204_and_grants_no_api_access(visitor, login):
    login(visitor)
    assert visitor.get("/ui/session").status_code == 204
    assert visitor.get("/status").status_code == 401
    assert visitor.post("/pause", json={"duration": "1h"}, headers={"Origin": "http://127.0.0.1:18765",
                                                                    "X-WK-UI": "1"}).status_code == 401


def test_a_session_expires_after_twelve_idle_hours_and_each_use_restarts_it():
    now = [0.0]
    sessions = Sessions(clock=lambda: now[0])
    sid = sessions.create()
    now[0] += SESSION_IDLE_SECONDS - 1
    assert sessions.touch(sid)
    now[0] += SESSION_IDLE_SECONDS - 1
    assert sessions.touch(sid)
    now[0] += SESSION_IDLE_SECONDS
    assert not sessions.touch(sid)
    assert not sessions.touch(None)
