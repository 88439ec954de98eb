"""The Overview in a real browser: the checks as rows with strips, "Run all checks" makes an alert
appear (counter and live feed), Pause and Resume change the engine's state (checked through
`watchkeeper status --json`), no console error or foreign request, axe clean in light and dark."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers import wait_until
from tests.ui.conftest import Dashboard, axe_violations

FIRING = """[checks.disk_space]
enabled = true
volumes = ["/"]
schedule = "every 24h"
min_free_gb = 1000000

[checks.endpoint]
enabled = false

[checks.listening_ports]
enabled = false

[archive]
enabled = false
"""


@pytest.fixture(scope="module")
def dashboard_config() -> str:
    return FIRING


def paused_until(dashboard: Dashboard) -> str | None:
    result = dashboard.instance.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    value: str | None = json.loads(result.stdout)["paused_until"]
    return value


def test_the_overview_shows_every_check_as_a_row_with_its_strips(dashboard: Dashboard):
    page = dashboard.page
    rows = page.locator("#overview-checks tbody tr")
    rows.first.wait_for()
    names = [rows.nth(i).get_attribute("data-check") for i in range(rows.count())]
    assert "disk_space" in names and "stale_applications" in names
    disk = page.locator('tr[data-check="disk_space"]')
    assert disk.get_by_role("link", name="Disk space").is_visible()
    assert disk.locator('svg[role="img"][aria-label^="Last 24 hours:"]').count() == 1
    assert disk.locator('svg[role="img"][aria-label^="Last 7 days:"]').count() == 1


def test_run_all_checks_makes_the_alert_appear_on_the_overview_and_in_the_feed(dashboard: Dashboard):
    page = dashboard.page
    page.locator("#overview-checks tbody tr").first.wait_for()
    page.wait_for_function("() => document.querySelector('[data-live][sse-connect]')")  # the stream is open
    page.get_by_role("button", name="Run all checks").click()
    page.locator("#action-result").get_by_text(re.compile(r"\d+ checks run: 1 alert")).wait_for(timeout=60000)
    page.locator('[data-counter="attention"]', has_text="1").wait_for()
    disk = page.locator('tr[data-check="disk_space"]')
    assert "alert" in disk.locator(".outcome").inner_text()
    assert disk.locator(".cell-alert").count() >= 1
    # the feed gets the decision through the event stream, without a reload
    page.locator("#feed-rows .feed-item", has_text="disk_space").filter(has_text="SENT").first.wait_for(timeout=30000)
    assert page.locator("#feed-rows .feed-empty").is_hidden()


def test_pause_and_resume_change_the_engines_state(dashboard: Dashboard):
    page = dashboard.page
    page.get_by_role("button", name="Pause 1 h").click()
    page.locator("#action-result", has_text="Alerts paused until").wait_for()
    assert paused_until(dashboard) is not None
    page.locator('[data-counter="paused"] time').wait_for()
    page.get_by_role("button", name="Resume").click()
    page.locator("#action-result", has_text="Alerts resumed").wait_for()
    assert paused_until(dashboard) is None
    page.get_by_role("button", name="Pause until tomorrow 08:00").click()
    page.locator("#action-result", has_text="Alerts paused until").wait_for()
    until = paused_until(dashboard)
    assert until is not None
    page.get_by_label("Custom pause: a duration such as 2h, or a time such as 18:30").fill("2h")
    page.get_by_role("button", name="Pause", exact=True).click()
    wait_until(lambda: paused_until(dashboard) != until, timeout=30, message="the custom pause stored")
    page.get_by_label("Custom pause: a duration such as 2h, or a time such as 18:30").fill("whenever")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.locator("#action-result .result-error", has_text="custom pause must be a duration").wait_for()
    page.get_by_role("button", name="Resume").click()
    page.locator("#action-result", has_text="Alerts resumed").wait_for()
    assert paused_until(dashboard) is None


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_overview_has_no_serious_accessibility_violations(dashboard: Dashboard, scheme: str):
    page: Any = dashboard.new_page(color_scheme=scheme, bypass_csp=True)
    page.locator("#overview-checks tbody tr").first.wait_for()
    page.get_by_role("button", name="Run all checks").click()
    page.locator("#action-result .result").wait_for(timeout=60000)
    assert axe_violations(page) == []
    page.screenshot(path=f"/tmp/wk-overview-{scheme}.png", full_page=True)
