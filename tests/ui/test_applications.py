"""The Applications page in a real browser: add through the form (seen in the table and by the CLI),
the status changed inline, a CSV import with a bad row imports nothing and lists it, removal needs
a second button; no console errors or foreign requests; axe in light and dark."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import Dashboard, axe_violations
from tests.ui.htmx_wait import settled


def _cli_applications(dashboard: Dashboard) -> list[dict[str, Any]]:
    result = dashboard.instance.cli("applications", "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _add(page: Any, company: str, role: str) -> None:
    page.get_by_label("Company", exact=True).fill(company)
    page.get_by_label("Role", exact=True).fill(role)
    page.get_by_role("button", name="Add application").click()
    expect(page.get_by_role("status").filter(has_text=f"Added {role} at {company}.")).to_be_visible()
    settled(page)


def _open(dashboard: Dashboard, page: Any = None) -> Any:
    page = page or dashboard.page
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Applications", exact=True).click()
    expect(page.get_by_role("heading", name="Applications", level=1)).to_be_visible()
    return page


def test_an_application_added_through_the_form_is_in_the_table_and_the_cli(dashboard: Dashboard):
    page = _open(dashboard)
    page.get_by_label("Company", exact=True).fill("Globex")
    page.get_by_label("Role", exact=True).fill("Platform engineer")
    page.get_by_label("Applied on", exact=True).fill("2026-02-03")
    page.get_by_label("Status", exact=True).select_option("screening")
    page.get_by_label("URL", exact=True).fill("https://globex.example/jobs/7")
    page.get_by_label("Notes", exact=True).fill("via a friend")
    page.get_by_role("button", name="Add application").click()
    expect(page.get_by_role("status").filter(has_text="Added Platform engineer at Globex.")).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Globex"))
    expect(row).to_contain_text("Platform engineer")
    expect(row).to_contain_text("via a friend")
    expect(page.get_by_label("Company", exact=True)).to_have_value("")  # the form is cleared
    (app,) = [a for a in _cli_applications(dashboard) if a["company"] == "Globex"]
    assert (app["role"], app["status"], app["url"]) == ("Platform engineer", "screening", "https://globex.example/jobs/7")


def test_a_refused_application_names_the_field(dashboard: Dashboard):
    page = _open(dashboard)
    page.get_by_label("Role", exact=True).fill("Nobody's role")
    page.get_by_role("button", name="Add application").click()
    expect(page.get_by_role("alert")).to_contain_text("company must be 1 to 200 characters")
    expect(page.get_by_label("Company", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Role", exact=True)).to_have_value("Nobody's role")


def test_the_status_changes_inline(dashboard: Dashboard):
    page = _open(dashboard)
    _add(page, "Umbrella", "SRE")
    select = page.get_by_label("Status of SRE at Umbrella")
    select.select_option("interviewing")
    expect(page.locator("tr", has=select).get_by_role("status")).to_have_text("saved")
    (app,) = [a for a in _cli_applications(dashboard) if a["company"] == "Umbrella"]
    assert app["status"] == "interviewing"
    page.reload()
    expect(page.get_by_label("Status of SRE at Umbrella")).to_have_value("interviewing")


def test_a_csv_import_with_a_bad_row_imports_nothing_and_lists_the_error(dashboard: Dashboard):
    page = _open(dashboard)
    before = _cli_applications(dashboard)
    csv = b"company,role,applied\nHooli,Dev,2026-01-02\nPied Piper,,2026-01-03\n"
    page.get_by_label("CSV file").set_input_files([{"name": "apps.csv", "mimeType": "text/csv", "buffer": csv}])
    page.get_by_role("button", name="Import").click()
    alert = page.locator("#import-result").get_by_role("alert")
    expect(alert).to_contain_text("Nothing imported")
    expect(alert.get_by_role("listitem")).to_have_text(["row 3: role must be 1 to 200 characters"])
    assert _cli_applications(dashboard) == before
    expect(page.get_by_role("rowheader", name="Hooli")).to_have_count(0)

    good = b"company,role\nHooli,Dev\n"
    page.get_by_label("CSV file").set_input_files([{"name": "apps.csv", "mimeType": "text/csv", "buffer": good}])
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-result").get_by_role("status")).to_have_text("Imported 1 application.")
    expect(page.get_by_role("rowheader", name="Hooli")).to_be_visible()
    assert [a["company"] for a in _cli_applications(dashboard)].count("Hooli") == 1


def test_removing_an_application_needs_the_confirming_button(dashboard: Dashboard):
    page = _open(dashboard)
    _add(page, "Initrode", "Tester")
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Initrode"))
    confirm = row.get_by_role("button", name="Yes, remove Tester at Initrode")
    expect(confirm).to_be_hidden()  # the first click only opens the confirmation
    row.get_by_text("Remove", exact=True).click()
    confirm.click()
    expect(page.get_by_role("rowheader", name="Initrode")).to_have_count(0)
    assert not [a for a in _cli_applications(dashboard) if a["company"] == "Initrode"]


def test_the_applications_page_has_no_serious_axe_violations_in_light_and_dark(dashboard: Dashboard):
    for scheme in ("light", "dark"):
        page = _open(dashboard, dashboard.new_page(color_scheme=scheme, bypass_csp=True))
        page.get_by_label("CSV file").set_input_files([{"name": "x.csv", "mimeType": "text/csv", "buffer": b"x\n"}])
        page.get_by_role("button", name="Import").click()  # the error list is on the page too
        expect(page.locator("#import-result").get_by_role("alert")).to_be_visible()
        _add(page, f"Axe {scheme}", "Auditor")
        page.screenshot(path=f"/tmp/wk-applications-{scheme}.png", full_page=True)
        assert axe_violations(page) == [], scheme
