"""``/ui/applications``: the job applications table (company, role, applied on, status, URL, notes,
age) with a form to add one, the status changed inline (a select per row that posts on change),
a CSV import (all or nothing, every bad row listed) and removal behind a second, confirming button.

Every write calls engine.actions.life and answers with the fragment htmx swaps in: the form again
(cleared, or with the error naming the field), the row, or the import result; the table comes
along out of band when it changed. Refusals are shown in the page (status 200: htmx swaps only
successful answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.actions import life
from engine.actions.errors import ActionError, Invalid
from engine.actions.target import connected
from engine.api.ui.context import Ui, UiDep
from engine.api.ui.form_body import FormDep, FormFields
from engine.life.applications import Application
from engine.timeutil import from_db, resolve_timezone

PAGE_SIZE = 500
CSV_MAX_BYTES = 10 * 1024 * 1024
# The form's fields: (name, label); an action's message starts with its own name for the field.
FIELDS = (("company", "Company"), ("role", "Role"), ("applied", "Applied on"), ("status", "Status"),
          ("url", "URL"), ("notes", "Notes"))
_ACTION_FIELD = {"company": "company", "role": "role", "applied_at": "applied", "applied": "applied",
                 "status": "status", "url": "url", "notes": "notes"}

router = APIRouter()


@dataclass(frozen=True)
class ApplicationRow:
    """An application as the table shows it: its local applied date and its age in days."""

    app: Application
    applied_on: str
    age: str


def age_text(applied_at: str, now: datetime) -> str:
    """Whole days since ``applied_at`` in words. Pure."""
    days = max(0, (now - from_db(applied_at)).days)
    return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"


def field_of(message: str) -> str | None:
    """The form field an action's refusal names (its first word), if any. Pure."""
    first = message.split(" ", 1)[0].rstrip(":").lower()
    return _ACTION_FIELD.get(first) or next((n for n, label in FIELDS if message.startswith(label + ":")), None)


def _zone(ui: Ui) -> tzinfo:
    return resolve_timezone(ui.engine.config.general.timezone)


def _rows(ui: Ui) -> list[ApplicationRow]:
    now, zone = ui.engine.now(), _zone(ui)
    items: list[Application] = []
    with connected(ui.engine) as db:
        while True:
            page = life.list_applications(db, limit=PAGE_SIZE, offset=len(items))
            items += page.items
            if not page.items or len(items) >= page.total:
                break
    return [_row(ui, a, now, zone) for a in items]


def _row(ui: Ui, a: Application, now: datetime | None = None, zone: tzinfo | None = None) -> ApplicationRow:
    now, zone = now or ui.engine.now(), zone or _zone(ui)
    return ApplicationRow(a, from_db(a.applied_at).astimezone(zone).strftime("%Y-%m-%d"), age_text(a.applied_at, now))


def _fragment(ui: Ui, name: str, **context: Any) -> HTMLResponse:
    base = {"statuses": life.APPLICATION_STATUSES, "fields": dict(FIELDS)}
    return HTMLResponse(ui.templates.get_template(f"partials/{name}").render(**base, **context))


def _table_oob(ui: Ui) -> str:
    return ui.templates.get_template("partials/applications_table.html").render(
        rows=_rows(ui), statuses=life.APPLICATION_STATUSES, oob=True)


@router.get("/ui/applications", response_class=HTMLResponse)
def applications_page(request: Request, ui: UiDep) -> HTMLResponse:
    """The Applications page."""
    return ui.page(request, "applications.html", title="Applications", rows=_rows(ui),
                   statuses=life.APPLICATION_STATUSES, fields=dict(FIELDS), values={}, error=None, error_field=None,
                   added=None, oob=False)


@router.post("/ui/applications", response_class=HTMLResponse)
def add_application(ui: UiDep, form: FormDep) -> HTMLResponse:
    """Add an application from the form; the form comes back cleared (and the table) or with the error."""
    values = {name: form.text(name) for name, _ in FIELDS}
    try:
        applied = (life.start_of_day(life.parse_date("Applied on", values["applied"]), _zone(ui))
                   if values["applied"] else None)
        with connected(ui.engine) as db:
            added = life.create_application(db, values["company"], values["role"], now=ui.engine.now(),
                                            applied_at=applied, status=values["status"] or "applied",
                                            url=values["url"] or None, notes=values["notes"] or None)
    except ActionError as exc:
        return _fragment(ui, "application_form.html", values=values, error=str(exc), error_field=field_of(str(exc)),
                         added=None)
    ui.engine.publish()
    form_html = _fragment(ui, "application_form.html", values={}, error=None, error_field=None, added=added).body
    return HTMLResponse(bytes(form_html).decode() + _table_oob(ui))


@router.post("/ui/applications/{app_id}/status", response_class=HTMLResponse)
def change_status(app_id: int, ui: UiDep, form: FormDep) -> HTMLResponse:
    """Change one application's status (the row's select); answers the row."""
    error = None
    try:
        with connected(ui.engine) as db:
            life.update_application(db, app_id, now=ui.engine.now(), status=form.text("status"))
        ui.engine.publish()
    except ActionError as exc:
        error = str(exc)
    try:
        with connected(ui.engine) as db:
            app = life.get_application(db, app_id)
    except ActionError as exc:
        return _fragment(ui, "application_gone.html", app_id=app_id, error=error or str(exc))
    return _fragment(ui, "application_row.html", row=_row(ui, app), error=error, saved=error is None)


@router.post("/ui/applications/{app_id}/remove", response_class=HTMLResponse)
def remove_application(app_id: int, ui: UiDep) -> HTMLResponse:
    """Remove an application (the second, confirming button); answers the table."""
    error = None
    try:
        with connected(ui.engine) as db:
            life.delete_application(db, app_id)
        ui.engine.publish()
    except ActionError as exc:
        error = str(exc)
    return _fragment(ui, "applications_table.html", rows=_rows(ui), oob=False, error=error)


def csv_text(form: FormFields) -> str:
    """The uploaded CSV file's text (Invalid naming the problem)."""
    raw = form.files.get("csv")
    if not raw:
        raise Invalid("CSV file: choose a file to import")
    if len(raw) > CSV_MAX_BYTES:
        raise Invalid(f"CSV file: larger than {CSV_MAX_BYTES // (1024 * 1024)} MB; split it")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"CSV file: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None


@router.post("/ui/applications/import", response_class=HTMLResponse)
def import_csv(ui: UiDep, form: FormDep) -> HTMLResponse:
    """Import a CSV file, all or nothing: the count imported (and the table), or every bad row."""
    try:
        text = csv_text(form)
        with connected(ui.engine) as db:
            imported = life.import_applications_csv(db, text, now=ui.engine.now(), zone=_zone(ui))
    except life.ImportRefused as exc:
        return _fragment(ui, "applications_import.html", imported=None, problems=exc.problems, error=None)
    except ActionError as exc:
        return _fragment(ui, "applications_import.html", imported=None, problems=(), error=str(exc))
    ui.engine.publish()
    result = _fragment(ui, "applications_import.html", imported=len(imported.applications), problems=(), error=None)
    return HTMLResponse(bytes(result.body).decode() + _table_oob(ui))
