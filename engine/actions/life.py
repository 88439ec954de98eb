"""The person's own data as actions: job applications, work sessions and goals (with domains,
sub-goals, dependencies and progress updates).

Every action takes the database (a migrated peewee SqliteDatabase, on the caller's thread
connection) and plain values; a write takes ``now`` (the caller's clock). Input is checked here,
once, for every front end (lengths, statuses, times); engine.life applies the rules of the data.
Results are engine.life's frozen rows, pages of them (:class:`~engine.life.paging.Page`) or
:class:`Deleted`; each has ``to_dict()``, the JSON the API returns. Refusals are
:mod:`engine.actions.errors` (NotFound, Invalid, Conflict) with engine.life's message.

An update takes only the fields to change as keywords; a field left at :data:`UNSET` is kept,
``None`` clears an optional one (and is refused for a required one).

For the front ends people type into (the CLI, the chat): dates as YYYY-MM-DD (:func:`parse_date`,
a day starting at midnight in the person's zone, :func:`start_of_day`), applications from a CSV
file, all or nothing (:func:`import_applications_csv`), a goal named by id or by the start of its
title (:func:`find_goal`), a goal's domain by name, and the sample data in and out again
(:func:`load_demo`, :func:`remove_demo`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timezone, tzinfo
from enum import Enum
from typing import Any

from peewee import SqliteDatabase

from engine import demo
from engine.actions.errors import Conflict, Invalid, NotFound
from engine.life import applications, goals, work_sessions
from engine.life.applications import Application
from engine.life.errors import LifeError, LifeErrorKind
from engine.life.goals import Dependency, Domain, Goal, GoalDetail, Progress, SubGoal
from engine.life.paging import Page
from engine.life.work_sessions import WorkSession

APPLICATION_STATUSES = ("applied", "screening", "interviewing", "offer", "accepted", "rejected", "withdrawn",
                        "ghosted")
GOAL_STATUSES = ("active", "paused", "done", "dropped")
SUB_GOAL_STATUSES = ("open", "done")
END_STATUSES = ("ended", "abandoned")
NAME_MAX = 200  # company, role, session name, domain name, goal and sub-goal title
TEXT_MAX = 4000  # url, notes, cwd, description, progress note
DEFAULT_LIMIT = 100
FINDABLE_GOAL_STATUSES = ("active", "paused")  # what a title prefix (find_goal) may name
IMPORT_MAX_ROWS = 10_000
IMPORT_COLUMNS = ("company", "role", "applied", "status", "url", "notes")  # "applied_at" is taken for "applied"
IMPORT_PROBLEMS_SHOWN = 20


class Unset(Enum):
    """The type of :data:`UNSET`: "leave this field as it is" in an update."""

    UNSET = "unset"


UNSET = Unset.UNSET


@dataclass(frozen=True)
class Deleted:
    """A record that was deleted."""

    id: int
    deleted: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- validation (one place for every front end) ---------------------------------------------------------


def _name(field: str, value: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= NAME_MAX:
        raise Invalid(f"{field} must be 1 to {NAME_MAX} characters")
    return value


def _text(field: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > TEXT_MAX):
        raise Invalid(f"{field} must be text of at most {TEXT_MAX} characters")
    return value


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Invalid(f"{field} must be one of {', '.join(allowed)}")
    return value


def _moment(field: str, value: datetime | None) -> datetime | None:
    """``value`` in UTC (a time without offset is taken as UTC); years 1900-9999."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        value = value.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise Invalid(f"{field} out of range") from exc
    if not 1900 <= value.year <= 9999:
        raise Invalid(f"{field} out of range (years 1900-9999)")
    return value


def _day(field: str, value: date | None) -> date | None:
    if value is not None and not 1900 <= value.year <= 9999:
        raise Invalid(f"{field} out of range (years 1900-9999)")
    return value


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(field: str, text: str) -> date:
    """The calendar date typed as YYYY-MM-DD; Invalid naming the field and the value otherwise."""
    value = text.strip()
    try:
        if not _DATE_RE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{field}: {text!r} is not a date (use YYYY-MM-DD)") from None
    result = _day(field, day)
    assert result is not None
    return result


def start_of_day(day: date, zone: tzinfo) -> datetime:
    """Midnight at the start of ``day`` in ``zone``, in UTC (a typed date as a moment)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)


def _paging(limit: int, offset: int) -> None:
    if limit < 1:
        raise Invalid("limit must be at least 1")
    if offset < 0:
        raise Invalid("offset cannot be negative")


def _changes(checks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The fields given (not UNSET), each non-None value checked by ``checks[name]``; None goes to
    engine.life, which refuses it for a required field ("X cannot be null")."""
    given = {k: v for k, v in fields.items() if v is not UNSET}
    return {k: (checks[k](k, v) if v is not None else None) for k, v in given.items()}


_LIFE_ERRORS: dict[LifeErrorKind, type[Exception]] = {
    LifeErrorKind.NOT_FOUND: NotFound, LifeErrorKind.INVALID: Invalid, LifeErrorKind.CONFLICT: Conflict}


@contextmanager
def _refusals() -> Iterator[None]:
    """engine.life's refusals as NotFound / Invalid / Conflict with the same message."""
    try:
        yield
    except LifeError as exc:
        raise _LIFE_ERRORS[exc.kind](str(exc)) from exc


# -- applications -------------------------------------------------------------------------------------


def create_application(db: SqliteDatabase, company: str, role: str, *, now: datetime,
                       applied_at: datetime | None = None, url: str | None = None, notes: str | None = None,
                       status: str = applications.APPLIED) -> Application:
    """Record a job application (``applied_at`` defaults to ``now``)."""
    with _refusals():
        return applications.create(db, company=_name("company", company), role=_name("role", role), now=now,
                                   status=_choice("status", status, APPLICATION_STATUSES),
                                   applied_at=_moment("applied_at", applied_at), url=_text("url", url),
                                   notes=_text("notes", notes))


def get_application(db: SqliteDatabase, app_id: int) -> Application:
    """The application with this id."""
    with _refusals():
        return applications.get(db, app_id)


def list_applications(db: SqliteDatabase, *, status: str | None = None, company: str | None = None,
                      limit: int = DEFAULT_LIMIT, offset: int = 0) -> Page[Application]:
    """Applications, oldest application first; ``company`` matches part of the name."""
    _paging(limit, offset)
    return applications.list_page(db, status=status, company=company, limit=limit, offset=offset)


def update_application(db: SqliteDatabase, app_id: int, *, now: datetime, company: str | None | Unset = UNSET,
                       role: str | None | Unset = UNSET, status: str | None | Unset = UNSET,
                       applied_at: datetime | None | Unset = UNSET, url: str | None | Unset = UNSET,
                       notes: str | None | Unset = UNSET) -> Application:
    """Change the given fields of an application (its ``updated_at`` becomes ``now``)."""
    changes = _changes({"company": _name, "role": _name, "applied_at": _moment, "url": _text, "notes": _text,
                        "status": lambda f, v: _choice(f, v, APPLICATION_STATUSES)},
                       company=company, role=role, status=status, applied_at=applied_at, url=url, notes=notes)
    with _refusals():
        return applications.update(db, app_id, changes, now)


def delete_application(db: SqliteDatabase, app_id: int) -> Deleted:
    """Delete an application."""
    with _refusals():
        applications.delete(db, app_id)
    return Deleted(app_id)


@dataclass(frozen=True)
class Imported:
    """The applications a CSV import recorded, in file order."""

    applications: tuple[Application, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"imported": len(self.applications), "items": [a.to_dict() for a in self.applications]}


class ImportRefused(Invalid):
    """A CSV import that recorded nothing; ``problems`` names each bad row and field ("row 3: ...")."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        shown = problems[:IMPORT_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__("nothing imported: " + "; ".join(shown) + (f"; and {more} more" if more else ""))


def _import_header(fieldnames: Sequence[str] | None) -> list[str]:
    if not fieldnames or not any(name.strip() for name in fieldnames):
        raise ImportRefused([f"row 1: the header row is missing (columns: {', '.join(IMPORT_COLUMNS)})"])
    names = [{"applied_at": "applied"}.get(n.strip().lower(), n.strip().lower()) for n in fieldnames]
    problems = [f"row 1: unknown column {raw.strip()!r} (columns: {', '.join(IMPORT_COLUMNS)})"
                for raw, name in zip(fieldnames, names, strict=True) if name not in IMPORT_COLUMNS]
    problems += [f"row 1: column {name!r} appears twice" for name in dict.fromkeys(names) if names.count(name) > 1]
    problems += [f"row 1: the column {name!r} is missing" for name in ("company", "role") if name not in names]
    if problems:
        raise ImportRefused(problems)
    return names


def _import_row(row: dict[str, str], zone: tzinfo) -> dict[str, Any]:
    """One data row checked (Invalid naming the field), as create_application's keywords."""
    values = {k: (v or "").strip() for k, v in row.items()}
    applied = parse_date("applied", values["applied"]) if values.get("applied") else None
    return {"company": _name("company", values["company"]), "role": _name("role", values["role"]),
            "status": _choice("status", values.get("status") or applications.APPLIED, APPLICATION_STATUSES),
            "applied_at": start_of_day(applied, zone) if applied else None,
            "url": _text("url", values.get("url") or None), "notes": _text("notes", values.get("notes") or None)}


def import_applications_csv(db: SqliteDatabase, text: str, *, now: datetime, zone: tzinfo) -> Imported:
    """Record the applications of a CSV text (header row: company, role and optionally applied
    (YYYY-MM-DD, a day in ``zone``; default ``now``), status, url, notes), all or nothing: any bad
    row refuses the whole file with :class:`ImportRefused` naming every bad row (the header is row 1)
    and field. Blank rows are skipped."""
    reader = csv.DictReader(io.StringIO(text), restkey="\0extra")
    try:
        names = _import_header(reader.fieldnames)
        reader.fieldnames = names
        checked: list[dict[str, Any]] = []
        problems: list[str] = []
        for number, row in enumerate(reader, start=2):
            if number - 1 > IMPORT_MAX_ROWS:
                raise ImportRefused([f"more than {IMPORT_MAX_ROWS} rows; split the file"])
            if "\0extra" in row:
                problems.append(f"row {number}: more values than the {len(names)} columns")
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            try:
                checked.append(_import_row(row, zone))
            except Invalid as exc:
                problems.append(f"row {number}: {exc}")
    except csv.Error as exc:
        raise ImportRefused([f"line {reader.line_num}: not CSV: {exc}"]) from None
    if problems:
        raise ImportRefused(problems)
    if not checked:
        raise ImportRefused(["no rows after the header"])
    with db.atomic("IMMEDIATE"), _refusals():
        return Imported(tuple(applications.create(db, now=now, **fields) for fields in checked))


# -- work sessions ------------------------------------------------------------------------------------


def start_work_session(db: SqliteDatabase, name: str, *, now: datetime, cwd: str | None = None,
                       started_at: datetime | None = None) -> WorkSession:
    """Start a work session by hand (session_crash watches it from now on)."""
    with _refusals():
        return work_sessions.start(db, name=_name("name", name), now=now, cwd=_text("cwd", cwd),
                                   started_at=_moment("started_at", started_at))


def get_work_session(db: SqliteDatabase, session_id: int) -> WorkSession:
    """The work session with this id."""
    with _refusals():
        return work_sessions.get(db, session_id)


def list_work_sessions(db: SqliteDatabase, *, status: str | None = None, limit: int = DEFAULT_LIMIT,
                       offset: int = 0) -> Page[WorkSession]:
    """Work sessions, latest activity first."""
    _paging(limit, offset)
    return work_sessions.list_page(db, status=status, limit=limit, offset=offset)


def record_activity(db: SqliteDatabase, session_id: int, *, now: datetime,
                    at: datetime | None = None) -> WorkSession:
    """Note activity at ``at`` (default ``now``) in an active session; last activity never moves back."""
    with _refusals():
        return work_sessions.record_activity(db, session_id, _moment("at", at) or now)


def end_work_session(db: SqliteDatabase, session_id: int, *, now: datetime,
                     status: str = work_sessions.ENDED) -> WorkSession:
    """End an active session as ``ended`` or ``abandoned``."""
    with _refusals():
        return work_sessions.end(db, session_id, now, _choice("status", status, END_STATUSES))


# -- goals --------------------------------------------------------------------------------------------


def list_domains(db: SqliteDatabase) -> tuple[Domain, ...]:
    """Every life domain, by name."""
    return tuple(goals.list_domains(db))


def create_domain(db: SqliteDatabase, name: str, *, now: datetime, description: str | None = None) -> Domain:
    """A new life domain (Conflict when the name is taken)."""
    with _refusals():
        return goals.create_domain(db, name=_name("name", name), now=now,
                                   description=_text("description", description))


def create_goal(db: SqliteDatabase, title: str, *, now: datetime, domain_id: int | None = None,
                status: str = goals.ACTIVE, target_date: date | None = None, domain_name: str | None = None) -> Goal:
    """A new goal, in a domain or none: by id, or by ``domain_name`` (created when there is none)."""
    if domain_id is not None and domain_name is not None:
        raise Invalid("give a domain id or a domain name, not both")
    title, status = _name("title", title), _choice("status", status, GOAL_STATUSES)
    target_date = _day("target_date", target_date)
    with db.atomic("IMMEDIATE"), _refusals():
        if domain_name is not None:
            domain_id = goals.ensure_domain(db, name=_name("domain", domain_name), now=now).id
        return goals.create(db, title=title, now=now, domain_id=domain_id, status=status, target_date=target_date)


def get_goal(db: SqliteDatabase, goal_id: int) -> Goal:
    """The goal with this id."""
    with _refusals():
        return goals.get(db, goal_id)


def find_goal(db: SqliteDatabase, ref: str) -> Goal:
    """The goal ``ref`` names: an id (``7`` or ``#7``), else the one active or paused goal whose
    title starts with ``ref`` (ignoring case; a title equal to ``ref`` wins). NotFound when none
    matches, Invalid when several do (naming them)."""
    text = ref.strip()
    if text.lstrip("#").isdigit():
        return get_goal(db, int(text.lstrip("#")))
    if not text:
        raise Invalid("goal: give its id or the start of its title")
    matches = goals.titled_with_prefix(db, text, FINDABLE_GOAL_STATUSES)
    exact = [g for g in matches if g.title.casefold() == text.casefold()]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"no active goal whose title starts with {text!r}")
    names = ", ".join(f"#{g.id} {g.title}" for g in matches[:10])
    raise Invalid(f"{text!r} matches {len(matches)} goals ({names}); give more of the title or the id")


def goal_detail(db: SqliteDatabase, goal_id: int, *, progress: int = 20) -> GoalDetail:
    """A goal with its sub-goals, the goals it depends on and its newest ``progress`` updates."""
    with _refusals():
        return goals.detail(db, goal_id, progress)


def list_goals(db: SqliteDatabase, *, domain_id: int | None = None, status: str | None = None,
               limit: int = DEFAULT_LIMIT, offset: int = 0) -> Page[Goal]:
    """Goals in creation order, filtered by domain and status."""
    _paging(limit, offset)
    return goals.list_page(db, domain_id=domain_id, status=status, limit=limit, offset=offset)


def update_goal(db: SqliteDatabase, goal_id: int, *, title: str | None | Unset = UNSET,
                domain_id: int | None | Unset = UNSET, status: str | None | Unset = UNSET,
                target_date: date | None | Unset = UNSET) -> Goal:
    """Change the given fields of a goal (``domain_id=None`` takes it out of its domain)."""
    changes = _changes({"title": _name, "domain_id": lambda f, v: v, "target_date": _day,
                        "status": lambda f, v: _choice(f, v, GOAL_STATUSES)},
                       title=title, domain_id=domain_id, status=status, target_date=target_date)
    with _refusals():
        return goals.update(db, goal_id, changes)


def add_sub_goal(db: SqliteDatabase, goal_id: int, title: str, *, now: datetime) -> SubGoal:
    """A new open sub-goal of the goal."""
    with _refusals():
        return goals.add_sub_goal(db, goal_id, title=_name("title", title), now=now)


def update_sub_goal(db: SqliteDatabase, sub_goal_id: int, *, now: datetime, title: str | None | Unset = UNSET,
                    status: str | None | Unset = UNSET) -> SubGoal:
    """Rename a sub-goal or mark it done (progress on its goal, as of ``now``) or open again."""
    changes = _changes({"title": _name, "status": lambda f, v: _choice(f, v, SUB_GOAL_STATUSES)},
                       title=title, status=status)
    with _refusals():
        return goals.update_sub_goal(db, sub_goal_id, changes, now)


def add_dependency(db: SqliteDatabase, goal_id: int, depends_on: int) -> Dependency:
    """Goal ``goal_id`` depends on goal ``depends_on``; a cycle is refused (Conflict)."""
    with _refusals():
        return goals.add_dependency(db, goal_id, depends_on)


def remove_dependency(db: SqliteDatabase, goal_id: int, depends_on: int) -> Dependency:
    """Drop the dependency of ``goal_id`` on ``depends_on``."""
    with _refusals():
        return goals.remove_dependency(db, goal_id, depends_on)


def add_progress(db: SqliteDatabase, goal_id: int, note: str | None = None, value: float | None = None, *,
                 now: datetime, at: datetime | None = None) -> Progress:
    """A progress update on the goal at ``at`` (default ``now``); it resets goal_staleness for the goal."""
    if value is not None and not math.isfinite(value):
        raise Invalid("value must be a finite number")
    with _refusals():
        return goals.add_progress(db, goal_id, now=now, value=value, note=_text("note", note),
                                  ts=_moment("at", at))


def list_progress(db: SqliteDatabase, goal_id: int, *, limit: int = DEFAULT_LIMIT,
                  offset: int = 0) -> Page[Progress]:
    """The goal's progress updates, newest first."""
    _paging(limit, offset)
    with _refusals():
        return goals.list_progress(db, goal_id, limit=limit, offset=offset)


# -- sample data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRows:
    """How many sample rows of each kind were loaded or removed."""

    applications: int
    work_sessions: int
    goals: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_demo(db: SqliteDatabase, *, now: datetime) -> DemoRows:
    """Load the sample data (a stale application, a stalled session, a stale goal and fresh ones);
    rows already there are not duplicated."""
    return DemoRows(**demo.load_demo(db, now))


def remove_demo(db: SqliteDatabase) -> DemoRows:
    """Delete exactly the sample rows the demo inserted; the person's own data stays."""
    return DemoRows(**demo.remove_demo(db))
