"""The live stream in a real browser: open while the tab is visible, closed while it is hidden (browsers
allow six connections per host), open again when it is shown."""

from __future__ import annotations

from typing import Any

from tests.helpers import wait_until
from tests.ui.conftest import Dashboard

HIDE = """hidden => {
    Object.defineProperty(document, 'visibilityState', {value: hidden ? 'hidden' : 'visible', configurable: true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_the_stream_closes_while_the_tab_is_hidden_and_opens_again_when_shown(dashboard: Dashboard):
    page: Any = dashboard.page
    streams: list[Any] = []
    ended: list[Any] = []
    page.on("request", lambda r: streams.append(r) if r.url.endswith("/ui/events") else None)
    page.on("requestfailed", lambda r: ended.append(r) if r.url.endswith("/ui/events") else None)
    page.on("requestfinished", lambda r: ended.append(r) if r.url.endswith("/ui/events") else None)
    page.reload()
    live = page.locator("[data-live]")
    wait_until(lambda: page.evaluate("1") and streams and live.get_attribute("sse-connect"), timeout=20,
               message="the stream to open")

    page.evaluate(HIDE, True)
    wait_until(lambda: page.evaluate("1") and ended, timeout=20, message="the stream to close when hidden")
    assert page.locator("[data-live]").get_attribute("sse-connect") is None
    opened = len(streams)

    page.evaluate(HIDE, False)
    wait_until(lambda: page.evaluate("1") and len(streams) > opened, timeout=20,
               message="a new stream when shown again")
    assert page.locator("[data-live]").get_attribute("sse-connect") == "/ui/events"
