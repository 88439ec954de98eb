"""The Alerts page in a real browser: after `watchkeeper demo` and `check run --all` the alerts are
listed; Acknowledge and Snooze change the engine's state (checked through `watchkeeper alerts --json`);
the filters live in the URL; a foreign-Origin POST is refused; axe finds nothing serious in light or dark."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ui.conftest import Dashboard, Instance, axe_violations

QUIET = "".join(f"[checks.{name}]\nenabled = false\n\n" for name in ("disk_space", "endpoint", "listening_ports"))


@pytest.fixture(scope="module")
def dashboard_config() -> str:
    return QUIET


@pytest.fixture(scope="module")
def opened(instance: Instance) -> list[dict[str, Any]]:
    """The demo data loaded and every check run through the CLI: the alerts it opened, newest first."""
    assert instance.cli("demo").returncode == 0
    ran = instance.cli("check", "run", "--all")
    assert ran.returncode == 0, ran.stderr
    found = engine_alerts(instance)
    assert len(found) >= 3, found
    return found


def engine_alerts(instance: Instance) -> list[dict[str, Any]]:
    result = instance.cli("alerts", "--json", "--all")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def engine_state(instance: Instance, alert_id: int) -> str:
    return next(a["state"] for a in engine_alerts(instance) if a["id"] == alert_id)


def open_alerts(dashboard: Dashboard, query: str = "") -> Any:
    page = dashboard.page
    page.goto(dashboard.instance.url(f"/ui/alerts{query}"))
    return page


def test_the_alerts_of_a_check_run_appear_with_their_check_and_actions(dashboard: Dashboard, opened):
    page = open_alerts(dashboard)
    rows = page.locator("table.alerts tbody tr")
    assert rows.count() == len(opened)
    first = page.locator(f"#alert-{opened[0]['id']}")
    assert opened[0]["subject"] in first.inner_text()
    assert first.get_by_role("link").inner_text() == opened[0]["check"].replace("_", " ").capitalize()
    for name in ("Acknowledge", "Snooze 1 h", "Snooze 1 d", "Snooze"):
        assert first.get_by_role("button", name=name, exact=True).is_visible()
    assert first.get_by_label("Snooze for").is_visible()


def test_acknowledge_changes_the_engine_state_and_the_row(dashboard: Dashboard, opened):
    alert = opened[0]["id"]
    page = open_alerts(dashboard)
    row = page.locator(f"#alert-{alert}")
    row.get_by_role("button", name="Acknowledge", exact=True).click()
    page.locator(f"#alert-{alert} .state-word", has_text="acknowledged").wait_for()
    assert page.locator(f"#alert-{alert} [role=status]").inner_text().startswith("Acknowledged")
    assert engine_state(dashboard.instance, alert) == "acknowledged"


def test_snooze_one_hour_and_a_custom_duration_change_the_engine_state(dashboard: Dashboard, opened):
    quick, custom = opened[1]["id"], opened[2]["id"]
    page = open_alerts(dashboard)
    page.locator(f"#alert-{quick}").get_by_role("button", name="Snooze 1 h", exact=True).click()
    page.locator(f"#alert-{quick} .state-word", has_text="snoozed").wait_for()
    row = page.locator(f"#alert-{custom}")
    row.get_by_label("Snooze for").fill("soon")
    row.get_by_role("button", name="Snooze", exact=True).click()
    page.locator(f"#alert-{custom} [role=alert]").wait_for()
    assert "soon" in page.locator(f"#alert-{custom} [role=alert]").inner_text()
    assert engine_state(dashboard.instance, custom) == "open"
    page.locator(f"#alert-{custom}").get_by_label("Snooze for").fill("3h")
    page.locator(f"#alert-{custom}").get_by_role("button", name="Snooze", exact=True).click()
    page.locator(f"#alert-{custom} .state-word", has_text="snoozed").wait_for()
    snoozed = {a["id"]: a for a in engine_alerts(dashboard.instance)}
    assert snoozed[quick]["state"] == snoozed[custom]["state"] == "snoozed"
    assert snoozed[quick]["snoozed_until"] < snoozed[custom]["snoozed_until"]


def test_the_filters_are_in_the_url_and_a_link_reproduces_the_view(dashboard: Dashboard, opened):
    page = open_alerts(dashboard)
    check = opened[-1]["check"]
    page.get_by_label("Check").select_option(check)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/ui/alerts?check={check}")
    expected = [a["id"] for a in opened if a["check"] == check]
    assert [int(i) for i in page.locator("table.alerts tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.alert)")] == expected
    page.get_by_role("navigation", name="Alert state").get_by_role("link", name="Open").click()
    page.wait_for_url(f"**/ui/alerts?state=open&check={check}")
    copy = dashboard.new_page()
    copy.goto(page.url)
    assert copy.get_by_label("Check").input_value() == check
    assert copy.locator('.state-tabs [aria-current="page"]').inner_text() == "Open"
    states = {a["id"]: a["state"] for a in engine_alerts(dashboard.instance)}
    shown = copy.locator("table.alerts tbody tr").evaluate_all("rows => rows.map(r => +r.dataset.alert)")
    assert shown == [i for i in expected if states[i] == "open"]


def test_a_foreign_origin_post_is_refused_and_changes_nothing(dashboard: Dashboard, opened):
    alert = opened[-1]["id"]
    before = engine_state(dashboard.instance, alert)
    page = open_alerts(dashboard)  # the context holds the session cookie; the request carries it
    answer = page.request.post(dashboard.instance.url(f"/ui/alerts/{alert}/acknowledge"),
                               headers={"Origin": "http://127.0.0.1:1", "X-WK-UI": "1"})
    assert answer.status == 403
    assert engine_state(dashboard.instance, alert) == before


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(dashboard: Dashboard, opened, scheme: str):
    page = dashboard.new_page(color_scheme=scheme, bypass_csp=True)
    page.goto(dashboard.instance.url("/ui/alerts"))
    page.screenshot(path=f"/tmp/wk-alerts-{scheme}.png", full_page=True)
    assert axe_violations(page) == []
