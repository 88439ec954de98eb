"""The dashboard's guard: Origin (or Sec-Fetch-Site) and X-WK-UI on every write, and the security
headers (CSP exactly as the issue says, nosniff, no-referrer) on every /ui response."""

from __future__ import annotations

import pytest

from engine.api.ui.guard import CSP, write_refusal

from .conftest import ORIGIN, PORT, post_token

ISSUE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
             "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:3000", "X-WK-UI": "1"},  # another local web app: same-site, foreign origin
    {"Origin": "http://evil.example", "X-WK-UI": "1"},
    {"Origin": "null", "X-WK-UI": "1"},
    {"Origin": ORIGIN},  # no custom header
    {"Origin": ORIGIN, "X-WK-UI": "0"},
    {"X-WK-UI": "1"},  # neither Origin nor Sec-Fetch-Site
    {"Sec-Fetch-Site": "same-site", "X-WK-UI": "1"},
])
def test_a_write_without_our_origin_and_the_ui_header_is_refused_403(visitor, login, logins, headers):
    login(visitor)  # a valid session does not help
    assert visitor.post("/ui/session", json={"token": logins.mint()}, headers=headers).status_code == 403
    assert post_token(visitor, logins.mint(), headers=headers).status_code == 403
    assert visitor.delete("/ui/", headers=headers).status_code == 403


def test_a_same_origin_write_passes_the_guard(visitor, logins):
    assert post_token(visitor, logins.mint(), {"Sec-Fetch-Site": "same-origin", "X-WK-UI": "1"}).status_code == 204
    assert post_token(visitor, logins.mint(), {"Origin": f"http://localhost:{PORT}", "X-WK-UI": "1"}).status_code == 204


def test_write_refusal_names_the_problem():
    assert write_refusal("GET", {}, PORT) is None
    assert write_refusal("POST", {"origin": "http://127.0.0.1:1", "x-wk-ui": "1"}, PORT) == "foreign origin"
    assert write_refusal("POST", {"origin": ORIGIN}, PORT) == "missing X-WK-UI header"
    assert write_refusal("PUT", {"x-wk-ui": "1"}, PORT) == "no Origin header"
    assert write_refusal("POST", {"origin": ORIGIN, "x-wk-ui": "1"}, PORT) is None


def test_the_csp_is_the_issues_policy():
    assert CSP == ISSUE_CSP


def test_every_ui_response_carries_the_csp_nosniff_and_no_referrer(visitor, login):
    answers = [visitor.get("/ui/"), visitor.get("/ui/login"), visitor.get("/ui/static/app.css"),
               visitor.post("/ui/session", json={}, headers={"Origin": "http://evil.example"})]
    login(visitor)
    answers += [visitor.get("/ui/"), visitor.get("/ui/session"), visitor.get("/ui/static/app.js"),
                visitor.get("/ui/static/no-such-file.js"), visitor.get("/ui/no-such-page"),
                visitor.get("/ui", follow_redirects=False)]
    assert {a.status_code for a in answers} >= {200, 204, 307, 401, 403, 404}
    for answer in answers:
        assert answer.headers["content-security-policy"] == ISSUE_CSP, answer.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"


def test_the_api_outside_ui_keeps_its_own_headers(visitor):
    assert "content-security-policy" not in visitor.get("/health").headers


def test_a_foreign_host_is_refused_before_the_ui(visitor):
    assert visitor.get("/ui/login", headers={"Host": "evil.example:80"}).status_code == 403
