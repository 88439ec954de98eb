"""The Applications page: the table, the add form (errors name the field), the inline status
change, the all-or-nothing CSV import and removal behind a confirming button."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from engine.actions import life
from engine.api.ui.pages.applications import age_text, field_of
from engine.store.db import connection
from tests.engine.api.ui.conftest import WRITE_HEADERS


def _apps(engine):
    with connection(engine.db) as db:
        return list(life.list_applications(db).items)


def _add(engine, company="Acme", role="Engineer", **kw):
    with connection(engine.db) as db:
        return life.create_application(db, company, role, now=engine.now(), **kw)


def test_the_page_shows_the_table_and_the_labelled_form(visitor, login, engine):
    _add(engine, url="https://acme.example/jobs/1", notes="met at <conf>")
    login(visitor)
    page = visitor.get("/ui/applications").text
    assert '<a href="/ui/applications" aria-current="page">Applications</a>' in page
    for col in ("Company", "Role", "Applied on", "Status", "URL", "Notes", "Age"):
        assert f'<th scope="col">{col}</th>' in page
    assert '<th scope="row">Acme</th>' in page and "met at &lt;conf&gt;" in page
    assert '<a href="https://acme.example/jobs/1"' in page
    for field_id, label in (("app-company", "Company"), ("app-role", "Role"), ("app-applied", "Applied on"),
                            ("app-status", "Status"), ("app-url", "URL"), ("app-notes", "Notes"),
                            ("csv-file", "CSV file")):
        assert f'<label for="{field_id}">{label}</label>' in page
    assert ">Add application</button>" in page and ">Import</button>" in page
    assert 'hx-trigger="change"' in page and '<label class="visually-hidden" for="status-' in page
    assert "style=" not in page and not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page)


def test_adding_an_application_records_it_and_returns_the_table_out_of_band(visitor, login, engine):
    login(visitor)
    answer = visitor.post("/ui/applications", headers=WRITE_HEADERS,
                          data={"company": "Initech", "role": "Analyst", "applied": "2026-03-02", "status": "screening",
                                "url": "", "notes": "referral"})
    assert answer.status_code == 200
    (app,) = _apps(engine)
    assert (app.company, app.role, app.status, app.notes) == ("Initech", "Analyst", "screening", "referral")
    assert app.url is None
    assert app.applied_at.startswith("2026-03-0")
    assert 'id="application-form"' in answer.text and "Added Analyst at Initech." in answer.text
    assert '<div id="applications-table" hx-swap-oob="true">' in answer.text and "Initech" in answer.text


def test_a_refused_application_names_the_field_and_keeps_the_typed_values(visitor, login, engine):
    login(visitor)
    answer = visitor.post("/ui/applications", headers=WRITE_HEADERS, data={"company": "", "role": "Analyst"})
    assert answer.status_code == 200
    assert "company must be 1 to 200 characters" in answer.text
    assert re.search(r'id="app-company"[^>]*aria-invalid="true"', answer.text)
    assert 'value="Analyst"' in answer.text and "hx-swap-oob" not in answer.text
    bad_date = visitor.post("/ui/applications", headers=WRITE_HEADERS,
                            data={"company": "A", "role": "B", "applied": "03/02/2026"})
    assert "Applied on: &#39;03/02/2026&#39; is not a date (use YYYY-MM-DD)" in bad_date.text
    assert re.search(r'id="app-applied"[^>]*aria-invalid="true"', bad_date.text)
    assert _apps(engine) == []


def test_the_status_changes_inline_and_answers_the_row(visitor, login, engine):
    app = _add(engine)
    login(visitor)
    answer = visitor.post(f"/ui/applications/{app.id}/status", headers=WRITE_HEADERS, data={"status": "interviewing"})
    assert answer.status_code == 200 and answer.text.lstrip().startswith(f'<tr id="application-{app.id}"')
    assert '<option value="interviewing" selected>' in answer.text and "saved" in answer.text
    assert _apps(engine)[0].status == "interviewing"
    refused = visitor.post(f"/ui/applications/{app.id}/status", headers=WRITE_HEADERS, data={"status": "hired"})
    assert "status must be one of" in refused.text and _apps(engine)[0].status == "interviewing"


def test_a_status_change_needs_the_ui_header(visitor, login, engine):
    app = _add(engine)
    login(visitor)
    answer = visitor.post(f"/ui/applications/{app.id}/status", headers={"Origin": WRITE_HEADERS["Origin"]},
                          data={"status": "offer"})
    assert answer.status_code == 403 and _apps(engine)[0].status == "applied"


def test_removing_takes_a_confirming_button_and_answers_the_table(visitor, login, engine):
    app = _add(engine)
    login(visitor)
    page = visitor.get("/ui/applications").text
    assert "<summary>Remove</summary>" in page and f'hx-post="/ui/applications/{app.id}/remove"' in page
    answer = visitor.post(f"/ui/applications/{app.id}/remove", headers=WRITE_HEADERS)
    assert answer.status_code == 200 and "No applications yet" in answer.text
    assert _apps(engine) == []
    again = visitor.post(f"/ui/applications/{app.id}/remove", headers=WRITE_HEADERS)
    assert f"no application with id {app.id}" in again.text


def _upload(visitor, content: bytes):
    return visitor.post("/ui/applications/import", headers=WRITE_HEADERS,
                        files={"csv": ("apps.csv", content, "text/csv")})


def test_a_csv_import_with_a_bad_row_imports_nothing_and_lists_every_problem(visitor, login, engine):
    login(visitor)
    answer = _upload(visitor, b"company,role,applied,status\nAcme,Dev,2026-01-05,applied\n"
                              b",Ops,,\nBeta,QA,2026-13-01,\n")
    assert answer.status_code == 200
    assert "Nothing imported" in answer.text
    assert "<li>row 3: company must be 1 to 200 characters</li>" in answer.text
    assert "<li>row 4: applied: &#39;2026-13-01&#39; is not a date (use YYYY-MM-DD)</li>" in answer.text
    assert _apps(engine) == [] and "hx-swap-oob" not in answer.text


def test_a_good_csv_import_records_every_row_and_updates_the_table(visitor, login, engine):
    login(visitor)
    answer = _upload(visitor, "\ufeffcompany,role,notes\nAcme,Dev,första\nBeta,QA,\n".encode())
    assert "Imported 2 applications." in answer.text
    assert [a.company for a in _apps(engine)] == ["Acme", "Beta"] and _apps(engine)[0].notes == "första"
    assert '<div id="applications-table" hx-swap-oob="true">' in answer.text


def test_an_import_without_a_file_or_not_utf8_says_so(visitor, login, engine):
    login(visitor)
    assert "CSV file: choose a file to import" in _upload(visitor, b"").text
    assert "CSV file: not UTF-8 text" in _upload(visitor, b"company,role\n\xff\xfe,x\n").text
    assert _apps(engine) == []


def test_age_is_whole_days_since_applying():
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    assert age_text("2026-03-10T08:00:00.000000Z", now) == "today"
    assert age_text("2026-03-09T08:00:00.000000Z", now) == "1 day"
    assert age_text((now - timedelta(days=12)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"), now) == "12 days"


def test_a_refusal_is_mapped_to_the_field_it_names():
    assert field_of("company must be 1 to 200 characters") == "company"
    assert field_of("applied_at out of range (years 1900-9999)") == "applied"
    assert field_of("Applied on: '3' is not a date (use YYYY-MM-DD)") == "applied"
    assert field_of("the instance is not running") is None
