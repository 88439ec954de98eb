"""The Goals page in a real browser: a goal added through its form (its domain created by name),
progress logged and the goal marked done, each checked through `watchkeeper goals list --json`;
staleness in words; no console errors or foreign requests; axe in light and dark."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import Dashboard, axe_violations
from tests.ui.htmx_wait import settled


def _cli_goals(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    result = dashboard.instance.cli("goals", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {g["title"]: g for g in json.loads(result.stdout)}


def _open(dashboard: Dashboard, page: Any = None) -> Any:
    page = page or dashboard.page
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Goals", exact=True).click()
    expect(page.get_by_role("heading", name="Goals", level=1)).to_be_visible()
    return page


def _add(page: Any, title: str, domain: str = "", target: str = "") -> Any:
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Domain", exact=True).fill(domain)
    if target:
        page.get_by_label("Target date", exact=True).fill(target)
    page.get_by_role("button", name="Add goal").click()
    expect(page.locator("#goal-form").get_by_role("status")).to_contain_text(f"Added goal {title}")
    settled(page)
    return page.get_by_role("article", name=title)


def test_a_goal_added_and_progress_logged_show_in_the_cli(dashboard: Dashboard):
    page = _open(dashboard)
    card = _add(page, "Run a marathon", "Health", "2027-04-30")
    expect(page.get_by_role("heading", name="Health", level=3)).to_be_visible()
    expect(card).to_contain_text("target 2027-04-30")
    goal = _cli_goals(dashboard)["Run a marathon"]
    assert (goal["domain"], goal["target_date"], goal["status"], goal["last_progress_at"]) == (
        "Health", "2027-04-30", "active", None)

    card.get_by_label("Note").fill("first 10 km")
    card.get_by_label("Value (optional)").fill("10")
    card.get_by_role("button", name="Log progress").click()
    expect(page.get_by_role("article", name="Run a marathon").get_by_role("status")).to_have_text("Progress logged.")
    assert _cli_goals(dashboard)["Run a marathon"]["last_progress_at"] is not None
    settled(page)

    page.get_by_role("article", name="Run a marathon").get_by_role("button", name="Done").click()
    expect(page.get_by_role("article", name="Run a marathon").get_by_role("status")).to_have_text("Marked done.")
    assert _cli_goals(dashboard)["Run a marathon"]["status"] == "done"


def test_a_bad_progress_value_is_refused_naming_the_field(dashboard: Dashboard):
    page = _open(dashboard)
    card = _add(page, "Read 12 books", "Learning")
    card.get_by_label("Value (optional)").fill("a lot")
    card.get_by_role("button", name="Log progress").click()
    expect(page.get_by_role("article", name="Read 12 books").get_by_role("alert")).to_have_text(
        "Value: 'a lot' is not a number")
    assert _cli_goals(dashboard)["Read 12 books"]["last_progress_at"] is None


def test_a_refused_goal_names_the_field(dashboard: Dashboard):
    page = _open(dashboard)
    page.get_by_label("Domain", exact=True).fill("Career")
    page.get_by_role("button", name="Add goal").click()
    expect(page.locator("#goal-form").get_by_role("alert")).to_have_text("title must be 1 to 200 characters")
    expect(page.get_by_label("Title", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Domain", exact=True)).to_have_value("Career")


def test_a_stale_goal_says_so_in_words(dashboard: Dashboard):
    result = dashboard.instance.cli("demo")
    assert result.returncode == 0, result.stderr
    page = _open(dashboard)
    expect(page.locator(".goal-stale .stale").first).to_contain_text("days without progress")
    expect(page.locator(".goal-stale .stale").first).to_contain_text("stale: ")


def test_the_goals_page_has_no_serious_axe_violations_in_light_and_dark(dashboard: Dashboard):
    for scheme in ("light", "dark"):
        page = _open(dashboard, dashboard.new_page(color_scheme=scheme, bypass_csp=True))
        _add(page, f"Axe goal {scheme}", "Accessibility")
        page.get_by_role("button", name="Add goal").click()  # empty: the error is on the page too
        expect(page.locator("#goal-form").get_by_role("alert")).to_be_visible()
        page.screenshot(path=f"/tmp/wk-goals-{scheme}.png", full_page=True)
        assert axe_violations(page) == [], scheme
