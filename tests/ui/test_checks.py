"""The Checks pages in a real browser: the list links to each check; the detail shows the `check why`
explanation, the uptime summary and the decision history, and "Run now" updates them; axe clean in
light and dark, no console error or foreign request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import Dashboard, axe_violations
from tests.ui.test_overview import FIRING


@pytest.fixture(scope="module")
def dashboard_config() -> str:
    return FIRING


def test_the_list_links_to_a_checks_detail(dashboard: Dashboard):
    page = dashboard.page
    page.get_by_role("link", name="Checks", exact=True).click()
    page.locator('tr[data-check="disk_space"]').wait_for()
    page.get_by_role("link", name="Disk space").click()
    page.get_by_role("heading", name="Disk space disk_space").wait_for()
    assert page.url == dashboard.instance.url("/ui/checks/disk_space")


def test_run_now_shows_the_result_why_and_the_decision_in_the_history(dashboard: Dashboard):
    page = dashboard.page
    page.goto(dashboard.instance.url("/ui/checks/disk_space"))
    assert "Check: disk_space" in page.locator("#check-why").inner_text()
    page.get_by_role("button", name="Run now").click()
    page.locator("#run-result", has_text="1 check run: 1 alert").wait_for(timeout=60000)
    page.locator("#check-last .findings li").first.wait_for()
    assert "Last notified: never" not in page.locator("#check-why").inner_text()
    page.reload()
    history = page.locator("#decisions table tbody tr")
    history.first.wait_for()
    assert "SENT" in history.first.inner_text()
    uptime = page.locator("table.uptime tbody tr")
    assert uptime.count() == 3
    assert "Last 24 hours" in uptime.first.inner_text()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_checks_pages_have_no_serious_accessibility_violations(dashboard: Dashboard, scheme: str):
    page: Any = dashboard.new_page(color_scheme=scheme, bypass_csp=True)
    for path in ("/ui/checks", "/ui/checks/disk_space"):
        page.goto(dashboard.instance.url(path))
        page.locator("main h1").wait_for()
        assert axe_violations(page) == [], path
        page.screenshot(path=f"/tmp/wk-{path.strip('/').replace('/', '-')}-{scheme}.png", full_page=True)
