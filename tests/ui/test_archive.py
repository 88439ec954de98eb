"""The Archive page in a real browser over the fixture transcripts (archived through the CLI): the
search finds a fixture prompt with its hit highlighted, the session view shows prompts and tool calls
and its subagent link opens, the heatmap holds the fixture days, the usage panel draws its chart, its
table holds the per-day figures and its agent and range choices change the numbers without a reload
(or it says there is no data); no console error, no foreign request, axe clean in light and dark."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT
from tests.ui.conftest import Dashboard, Instance, axe_violations
from tests.ui.htmx_wait import settled

FIXTURES = ROOT / "tests" / "fixtures" / "conversations"
SHOP = "c0ffee00-1111-4222-8333-000000000001"
YEAR_OF_FIXTURES = "/ui/archive?until=2026-03-31"  # fixed, so the test does not age with the clock


@pytest.fixture(scope="module")
def archived(instance: Instance) -> Instance:
    result = instance.cli("archive", "run", "--source", str(FIXTURES))
    assert result.returncode == 0, result.stderr
    return instance


def test_search_finds_a_fixture_prompt_with_the_hit_highlighted(dashboard: Dashboard, archived: Instance):
    page = dashboard.page
    page.goto(archived.url("/ui/archive"))
    page.get_by_label("Search conversations").fill("checkout form")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/ui/archive\?q=checkout\+form$"))
    hit = page.locator(".hits li").first
    assert hit.locator("mark").all_inner_texts()[:2] == ["checkout", "form"]
    assert "Add a discount code field to the" in hit.inner_text()
    hit.get_by_role("link").click()
    page.wait_for_url(archived.url(f"/ui/archive/{SHOP}"))
    page.get_by_role("heading", name="Checkout discount code", level=1).wait_for()


def test_the_session_view_shows_prompts_tool_calls_and_opens_a_subagent(dashboard: Dashboard, archived: Instance):
    page = dashboard.page
    page.goto(archived.url(f"/ui/archive/{SHOP}"))
    turns = page.locator(".turn")
    assert turns.count() == 3
    assert turns.first.locator(".prompt").inner_text() == "Add a discount code field to the checkout form."
    assert page.locator(".tool-name").filter(has_text="Edit").count() >= 1
    assert page.locator(".tool-state.error").count() >= 1
    page.get_by_role("link", name=re.compile(r"^code-reviewer a5b0c0ffee0000001")).click()
    page.get_by_role("heading", name="Subagent code-reviewer: Review discount code").wait_for()
    assert "Review the discount code change in checkout.py." in page.locator(".turn").first.inner_text()
    page.get_by_role("link", name="Checkout discount code").click()
    page.wait_for_url(archived.url(f"/ui/archive/{SHOP}"))


def test_the_heatmap_has_the_days_of_the_fixture_sessions(dashboard: Dashboard, archived: Instance):
    page = dashboard.page
    page.goto(archived.url(YEAR_OF_FIXTURES))
    day = page.locator('svg.heat rect[data-day="2026-03-02"]')
    assert day.get_attribute("class") != "l0"
    assert re.match(r"Mon 02 Mar 2026: [1-9]\d* prompts?, 1 session started", day.locator("title").text_content())
    label = page.locator("svg.heat[role=img]").get_attribute("aria-label")
    assert label.startswith("Activity from ") and " to 31 Mar 2026: " in label
    assert page.locator('svg.heat rect[data-day="2026-03-10"]').get_attribute("class") == "l0"


def _total(page, kind: str) -> int:
    return int(page.locator(f'.usage-totals dd[data-total="{kind}"]').inner_text().replace(",", ""))


def test_the_usage_panel_draws_the_chart_and_the_choices_change_the_numbers(dashboard: Dashboard,
                                                                          archived: Instance):
    page = dashboard.page
    page.goto(archived.url(YEAR_OF_FIXTURES))
    panel = page.locator("#usage")
    panel.locator(".chart canvas").wait_for()
    assert panel.locator(".u-legend").inner_text().count("Cache") == 2
    both = _total(page, "output")
    assert both > 0 and panel.locator(".usage-models tbody tr").count() >= 1
    # the table alternative holds the per-day figures of the totals
    panel.get_by_text("Token usage per day as a table").click()
    outputs = [int(t.replace(",", "")) for t in panel.locator(".usage-days tbody td:nth-child(3)").all_inner_texts()]
    assert sum(outputs) == both
    marker = page.evaluate("() => { window.notReloaded = true; return 1; }")
    panel.get_by_role("link", name="Codex").click()
    page.locator('#usage a[aria-current="true"]', has_text="Codex").wait_for()
    page.locator("#usage .chart canvas").wait_for()
    settled(page)
    codex = _total(page, "output")
    assert 0 < codex < both
    assert page.url.endswith("/ui/archive?until=2026-03-31&days=30&agent=codex")
    page.locator("#usage").get_by_role("link", name="7 days").click()
    page.locator('#usage a[aria-current="true"]', has_text="7 days").wait_for()
    settled(page)
    assert page.locator("#usage .usage-period").inner_text().startswith("25 Mar 2026 to 31 Mar 2026")
    assert page.locator("#usage .no-usage").inner_text() == (
        "No token usage was archived from 25 Mar 2026 to 31 Mar 2026 for Codex.")
    assert page.locator("#usage canvas").count() == 0
    assert page.evaluate("() => window.notReloaded") is True and marker == 1  # swapped by htmx, not reloaded


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_archive_pages_have_no_serious_axe_violations(dashboard: Dashboard, archived: Instance, scheme: str):
    page = dashboard.new_page(color_scheme=scheme, bypass_csp=True)
    for path in (YEAR_OF_FIXTURES + "&q=checkout+form", f"/ui/archive/{SHOP}",
                 f"/ui/archive/{SHOP}?agent=a5b0c0ffee0000001"):
        page.goto(archived.url(path))
        if "q=" in path:
            page.locator(".archive-usage .chart canvas").wait_for()
        assert axe_violations(page) == [], path
