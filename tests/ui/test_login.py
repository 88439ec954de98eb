"""Logging in to the dashboard in a real browser: a one-time URL, an HttpOnly Strict cookie, locked pages,
and the theme following the system."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import wait_until
from tests.ui.conftest import Dashboard, Guard, Instance

PAGES = ("/ui/", "/ui/checks", "/ui/alerts", "/ui/applications", "/ui/goals", "/ui/archive", "/ui/delivery")
REFUSED = "Failed to load resource: the server responded with a status of 401"  # the browser's own line


def _context(browser: Any, instance: Instance, **options: Any) -> tuple[Any, Guard]:
    context = browser.new_context(**options)
    watcher = Guard(instance.origin)
    watcher.watch(context)
    return context, watcher


def test_a_login_url_works_once_and_leaves_only_an_httponly_strict_cookie(dashboard: Dashboard, browser: Any):
    instance = dashboard.instance
    url = dashboard.login_url()
    first, first_guard = _context(browser, instance)
    page = first.new_page()
    page.goto(url)
    page.wait_for_url(f"{instance.origin}/ui/")
    assert "#t=" not in page.url
    assert page.evaluate("document.cookie") == ""  # not readable by scripts
    (cookie,) = [c for c in first.cookies() if c["name"].startswith("wk_ui_")]
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (f"wk_ui_{instance.port}", True, "Strict")
    assert page.get_by_role("heading", name="Overview").is_visible()

    second, second_guard = _context(browser, instance)
    again = second.new_page()
    again.goto(url)  # the same URL a second time, in a browser without the cookie
    status = again.locator("#login-status")
    wait_until(lambda: "already used or has expired" in status.inner_text(), timeout=20,
               message="the refused login to say so")
    assert "watchkeeper dashboard" in status.inner_text()
    assert not [c for c in second.cookies() if c["name"].startswith("wk_ui_")]
    again.goto(instance.url("/ui/"))
    assert "Locked" in again.locator("main").inner_text()
    first.close()
    second.close()
    first_guard.assert_clean()
    assert [e for e in second_guard.problems() if REFUSED not in e] == []


def test_without_a_session_every_page_is_locked_and_says_how_to_open_it(browser: Any, instance: Instance):
    context, watcher = _context(browser, instance)
    page = context.new_page()
    for path in PAGES:
        answer = page.goto(instance.url(path))
        assert answer is not None and answer.status == 401, path
        text = page.locator("body").inner_text()
        assert "Locked" in text and "tray menu" in text and "watchkeeper dashboard" in text, path
    context.close()
    assert [e for e in watcher.problems() if REFUSED not in e] == []


@pytest.mark.parametrize(("scheme", "dark"), [("light", False), ("dark", True)])
def test_the_theme_follows_the_system_colour_scheme(dashboard: Dashboard, scheme: str, dark: bool):
    page = dashboard.new_page(color_scheme=scheme)
    red, green, blue = page.evaluate("""() => getComputedStyle(document.body).backgroundColor
        .match(/\\d+/g).slice(0, 3).map(Number)""")
    assert (red + green + blue < 3 * 64) is dark, (scheme, red, green, blue)
