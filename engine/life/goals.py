"""Goals and what hangs off them: life domains, sub-goals, dependencies between goals and progress
updates (tables ``life_domains``, ``life_goals``, ``life_sub_goals``, ``life_goal_dependencies``,
``life_goal_metrics``).

The rules of the data live here: a sub-goal marked done and a progress update both count as
progress on the goal (a sub-goal sets ``last_progress_at`` to the moment it was done, an update moves
it forward to its time, never back); a goal cannot depend on itself
nor on a goal that already depends on it, directly or through others; a goal is stale when its
newest progress (update, else ``last_progress_at``, else creation) is old enough.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from peewee import SqliteDatabase

from engine.life.errors import LifeError, conflict, invalid, not_found
from engine.life.paging import Filter, Page, Record, like_prefix, page
from engine.timeutil import to_db

ACTIVE = "active"
DONE = "done"
CHANGEABLE = frozenset({"title", "domain_id", "status", "target_date"})
REQUIRED = ("title", "status")


@dataclass(frozen=True)
class Domain(Record):
    """A life domain goals are grouped under (Health, Career …)."""

    id: int
    name: str
    description: str | None
    created_at: str


@dataclass(frozen=True)
class Goal(Record):
    """One goal as stored, with its domain's name."""

    id: int
    domain_id: int | None
    domain: str | None
    title: str
    status: str
    target_date: str | None  # YYYY-MM-DD
    created_at: str
    last_progress_at: str | None


@dataclass(frozen=True)
class SubGoal(Record):
    id: int
    goal_id: int
    title: str
    status: str  # open / done
    created_at: str
    done_at: str | None


@dataclass(frozen=True)
class Dependency(Record):
    """Goal ``goal_id`` depends on goal ``depends_on_goal_id``."""

    goal_id: int
    depends_on_goal_id: int


@dataclass(frozen=True)
class Progress(Record):
    """A progress update on a goal (a ``life_goal_metrics`` row)."""

    id: int
    goal_id: int
    ts: str
    value: float | None
    note: str | None


@dataclass(frozen=True)
class GoalDetail:
    """A goal with its sub-goals, the goals it depends on and its newest progress updates."""

    goal: Goal
    sub_goals: tuple[SubGoal, ...]
    depends_on: tuple[int, ...]
    recent_progress: tuple[Progress, ...]

    def to_dict(self) -> dict[str, Any]:
        """The goal's fields with ``sub_goals``, ``depends_on`` (ids) and ``recent_progress`` added."""
        return {**self.goal.to_dict(), "sub_goals": [s.to_dict() for s in self.sub_goals],
                "depends_on": list(self.depends_on), "recent_progress": [p.to_dict() for p in self.recent_progress]}


@dataclass(frozen=True)
class StaleGoal(Record):
    """An active goal without recent progress; ``last_progress`` is when it last moved."""

    id: int
    title: str
    domain: str | None
    last_progress: str


_DOMAIN_COLS = tuple(f.name for f in fields(Domain))
_GOAL_COLS = ("g.id", "g.domain_id", "d.name AS domain", "g.title", "g.status", "g.target_date", "g.created_at",
              "g.last_progress_at")
_GOAL_FROM = "life_goals g LEFT JOIN life_domains d ON d.id = g.domain_id"
_SUB_COLS = tuple(f.name for f in fields(SubGoal))
_PROGRESS_COLS = tuple(f.name for f in fields(Progress))


# -- domains ------------------------------------------------------------------------------------------


def list_domains(db: SqliteDatabase) -> list[Domain]:
    """Every domain, by name."""
    rows = db.execute_sql(f"SELECT {', '.join(_DOMAIN_COLS)} FROM life_domains ORDER BY name").fetchall()
    return [Domain(*r) for r in rows]


def _domain_named(db: SqliteDatabase, name: str) -> Domain | None:
    row = db.execute_sql(f"SELECT {', '.join(_DOMAIN_COLS)} FROM life_domains WHERE name = ?", (name,)).fetchone()
    return Domain(*row) if row else None


def create_domain(db: SqliteDatabase, *, name: str, now: datetime, description: str | None = None) -> Domain:
    """A new domain (LifeError conflict when the name is taken)."""
    with db.atomic("IMMEDIATE"):
        if _domain_named(db, name) is not None:
            raise conflict(f"a domain named {name!r} exists")
        db.execute_sql("INSERT INTO life_domains (name, description, created_at) VALUES (?, ?, ?)",
                       (name, description, to_db(now)))
        found = _domain_named(db, name)
    assert found is not None
    return found


def ensure_domain(db: SqliteDatabase, *, name: str, now: datetime, description: str | None = None) -> Domain:
    """The domain with this name, created when missing."""
    db.execute_sql("INSERT OR IGNORE INTO life_domains (name, description, created_at) VALUES (?, ?, ?)",
                   (name, description, to_db(now)))
    found = _domain_named(db, name)
    assert found is not None
    return found


def _require_domain(db: SqliteDatabase, domain_id: int | None) -> None:
    if domain_id is not None and not db.execute_sql("SELECT 1 FROM life_domains WHERE id = ?",
                                                    (domain_id,)).fetchone():
        raise invalid(f"no domain with id {domain_id}")


# -- goals --------------------------------------------------------------------------------------------


def get(db: SqliteDatabase, goal_id: int) -> Goal:
    """The goal with this id (LifeError not-found else)."""
    row = db.execute_sql(f"SELECT {', '.join(_GOAL_COLS)} FROM {_GOAL_FROM} WHERE g.id = ?", (goal_id,)).fetchone()
    if row is None:
        raise not_found(f"no goal with id {goal_id}")
    return Goal(*row)


def list_page(db: SqliteDatabase, *, domain_id: int | None = None, status: str | None = None,
              limit: int = 100, offset: int = 0) -> Page[Goal]:
    """Goals in creation order, filtered by domain and status."""
    where = Filter()
    if domain_id is not None:
        where = where.where("g.domain_id = ?", domain_id)
    if status:
        where = where.where("g.status = ?", status)
    return page(db, _GOAL_COLS, _GOAL_FROM, where, "g.id", limit, offset, Goal)


def create(db: SqliteDatabase, *, title: str, now: datetime, domain_id: int | None = None,
           status: str = ACTIVE, target_date: date | None = None) -> Goal:
    """A new goal (LifeError invalid when the domain does not exist)."""
    with db.atomic("IMMEDIATE"):
        _require_domain(db, domain_id)
        cursor = db.execute_sql(
            "INSERT INTO life_goals (domain_id, title, status, target_date, created_at) VALUES (?, ?, ?, ?, ?)",
            (domain_id, title, status, target_date.isoformat() if target_date else None, to_db(now)))
    return get(db, int(cursor.lastrowid))


def update(db: SqliteDatabase, goal_id: int, changes: dict[str, Any]) -> Goal:
    """Change the title, domain, status or target date of a goal."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise invalid(f"cannot change {', '.join(sorted(unknown))}")
    for key in REQUIRED:
        if key in changes and changes[key] is None:
            raise invalid(f"{key} cannot be null")
    with db.atomic("IMMEDIATE"):
        get(db, goal_id)
        if "domain_id" in changes:
            _require_domain(db, changes["domain_id"])
        values = {k: (v.isoformat() if k == "target_date" and v is not None else v) for k, v in changes.items()}
        if values:
            db.execute_sql(f"UPDATE life_goals SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                           (*values.values(), goal_id))
        return get(db, goal_id)


def delete(db: SqliteDatabase, goal_id: int) -> None:
    """Delete a goal with its sub-goals, dependencies and progress updates (LifeError not-found else)."""
    with db.atomic("IMMEDIATE"):
        get(db, goal_id)
        db.execute_sql("DELETE FROM life_goals WHERE id = ?", (goal_id,))


def delete_domain_if_unused(db: SqliteDatabase, domain_id: int) -> bool:
    """Delete the domain when no goal is in it; whether it was deleted."""
    cursor = db.execute_sql("DELETE FROM life_domains WHERE id = ? AND NOT EXISTS"
                            " (SELECT 1 FROM life_goals WHERE domain_id = ?)", (domain_id, domain_id))
    return bool(cursor.rowcount)


def domain_named(db: SqliteDatabase, name: str) -> Domain | None:
    """The domain with exactly this name, if any."""
    return _domain_named(db, name)


def titled_with_prefix(db: SqliteDatabase, prefix: str, statuses: tuple[str, ...]) -> list[Goal]:
    """Goals in ``statuses`` whose title starts with ``prefix`` (case-insensitive for ASCII), by id."""
    marks = ", ".join("?" * len(statuses))
    rows = db.execute_sql(f"SELECT {', '.join(_GOAL_COLS)} FROM {_GOAL_FROM} WHERE g.title LIKE ? ESCAPE '\\'"
                          f" AND g.status IN ({marks}) ORDER BY g.id", (like_prefix(prefix), *statuses)).fetchall()
    return [Goal(*r) for r in rows]


def exists_titled(db: SqliteDatabase, title: str) -> bool:
    """Whether a goal with this title is recorded."""
    return db.execute_sql("SELECT 1 FROM life_goals WHERE title = ?", (title,)).fetchone() is not None


def detail(db: SqliteDatabase, goal_id: int, progress: int = 20) -> GoalDetail:
    """A goal with its sub-goals, dependencies and the newest ``progress`` progress updates."""
    goal = get(db, goal_id)
    subs = db.execute_sql(f"SELECT {', '.join(_SUB_COLS)} FROM life_sub_goals WHERE goal_id = ? ORDER BY id",
                          (goal_id,)).fetchall()
    deps = db.execute_sql("SELECT depends_on_goal_id FROM life_goal_dependencies WHERE goal_id = ?"
                          " ORDER BY depends_on_goal_id", (goal_id,)).fetchall()
    recent = db.execute_sql(f"SELECT {', '.join(_PROGRESS_COLS)} FROM life_goal_metrics WHERE goal_id = ?"
                            " ORDER BY ts DESC, id DESC LIMIT ?", (goal_id, progress)).fetchall()
    return GoalDetail(goal, tuple(SubGoal(*r) for r in subs), tuple(int(r[0]) for r in deps),
                      tuple(Progress(*r) for r in recent))


def _progressed(db: SqliteDatabase, goal_id: int, stamp: str) -> None:
    """The goal moved at ``stamp`` (its last progress never goes backwards)."""
    db.execute_sql("UPDATE life_goals SET last_progress_at = max(coalesce(last_progress_at, ''), ?) WHERE id = ?",
                   (stamp, goal_id))


# -- sub-goals ----------------------------------------------------------------------------------------


def get_sub_goal(db: SqliteDatabase, sub_id: int) -> SubGoal:
    """The sub-goal with this id (LifeError not-found else)."""
    row = db.execute_sql(f"SELECT {', '.join(_SUB_COLS)} FROM life_sub_goals WHERE id = ?", (sub_id,)).fetchone()
    if row is None:
        raise not_found(f"no sub-goal with id {sub_id}")
    return SubGoal(*row)


def add_sub_goal(db: SqliteDatabase, goal_id: int, *, title: str, now: datetime) -> SubGoal:
    """A new open sub-goal of the goal."""
    with db.atomic("IMMEDIATE"):
        get(db, goal_id)
        cursor = db.execute_sql("INSERT INTO life_sub_goals (goal_id, title, created_at) VALUES (?, ?, ?)",
                                (goal_id, title, to_db(now)))
    return get_sub_goal(db, int(cursor.lastrowid))


def update_sub_goal(db: SqliteDatabase, sub_id: int, changes: dict[str, Any], now: datetime) -> SubGoal:
    """Rename a sub-goal or mark it done / open (done counts as progress on the goal)."""
    for key in changes:
        if key not in ("title", "status") or changes[key] is None:
            raise invalid(f"cannot set {key} to {changes[key]!r}")
    with db.atomic("IMMEDIATE"):
        sub = get_sub_goal(db, sub_id)
        if "title" in changes:
            db.execute_sql("UPDATE life_sub_goals SET title = ? WHERE id = ?", (changes["title"], sub_id))
        if "status" in changes and changes["status"] != sub.status:
            done = changes["status"] == DONE
            db.execute_sql("UPDATE life_sub_goals SET status = ?, done_at = ? WHERE id = ?",
                           (changes["status"], to_db(now) if done else None, sub_id))
            if done:
                db.execute_sql("UPDATE life_goals SET last_progress_at = ? WHERE id = ?", (to_db(now), sub.goal_id))
        return get_sub_goal(db, sub_id)


# -- dependencies -------------------------------------------------------------------------------------


def add_dependency(db: SqliteDatabase, goal_id: int, depends_on: int) -> Dependency:
    """Goal ``goal_id`` depends on ``depends_on``; a dependency closing a cycle is refused (conflict)."""
    if goal_id == depends_on:
        raise invalid("a goal cannot depend on itself")
    with db.atomic("IMMEDIATE"):
        get(db, goal_id)
        try:
            get(db, depends_on)
        except LifeError as exc:  # the goal in the path exists; the one in the body does not
            raise invalid(str(exc)) from exc
        if _reaches(db, depends_on, goal_id):
            raise conflict(f"goal {depends_on} already depends on goal {goal_id} (a cycle)")
        db.execute_sql("INSERT OR IGNORE INTO life_goal_dependencies (goal_id, depends_on_goal_id) VALUES (?, ?)",
                       (goal_id, depends_on))
    return Dependency(goal_id, depends_on)


def _reaches(db: SqliteDatabase, start: int, target: int) -> bool:
    """Whether goal ``start`` depends on ``target`` (or is it), directly or through other goals."""
    return db.execute_sql(
        "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT d.depends_on_goal_id FROM life_goal_dependencies d"
        " JOIN up ON d.goal_id = up.id) SELECT 1 FROM up WHERE id = ?", (start, target)).fetchone() is not None


def remove_dependency(db: SqliteDatabase, goal_id: int, depends_on: int) -> Dependency:
    """Drop the dependency (LifeError not-found when there is none)."""
    cursor = db.execute_sql("DELETE FROM life_goal_dependencies WHERE goal_id = ? AND depends_on_goal_id = ?",
                            (goal_id, depends_on))
    if not cursor.rowcount:
        raise not_found(f"goal {goal_id} does not depend on goal {depends_on}")
    return Dependency(goal_id, depends_on)


# -- progress -----------------------------------------------------------------------------------------


def add_progress(db: SqliteDatabase, goal_id: int, *, now: datetime, value: float | None = None,
                 note: str | None = None, ts: datetime | None = None) -> Progress:
    """A progress update at ``ts`` (default ``now``); it resets goal_staleness for the goal."""
    stamp = to_db(ts or now)
    with db.atomic("IMMEDIATE"):
        get(db, goal_id)
        cursor = db.execute_sql("INSERT INTO life_goal_metrics (goal_id, ts, value, note) VALUES (?, ?, ?, ?)",
                                (goal_id, stamp, value, note))
        _progressed(db, goal_id, stamp)
    row = db.execute_sql(f"SELECT {', '.join(_PROGRESS_COLS)} FROM life_goal_metrics WHERE id = ?",
                         (cursor.lastrowid,)).fetchone()
    if row is None:
        raise not_found("no progress update")  # deleted meanwhile with its goal
    return Progress(*row)


def list_progress(db: SqliteDatabase, goal_id: int, *, limit: int = 100, offset: int = 0) -> Page[Progress]:
    """The goal's progress updates, newest first."""
    get(db, goal_id)
    return page(db, _PROGRESS_COLS, "life_goal_metrics", Filter().where("goal_id = ?", goal_id),
                "ts DESC, id DESC", limit, offset, Progress)


# -- staleness and counts -----------------------------------------------------------------------------


def stale(db: SqliteDatabase, *, no_progress_since: datetime) -> list[StaleGoal]:
    """Active goals whose last progress is at or before ``no_progress_since``, longest-idle first.
    Last progress = the newest progress update, else ``last_progress_at``, else creation."""
    rows = db.execute_sql(
        """SELECT g.id, g.title, d.name,
                  COALESCE((SELECT max(m.ts) FROM life_goal_metrics m WHERE m.goal_id = g.id),
                           g.last_progress_at, g.created_at) AS last
           FROM life_goals g LEFT JOIN life_domains d ON d.id = g.domain_id
           WHERE g.status = ? AND last <= ? ORDER BY last""",
        (ACTIVE, to_db(no_progress_since))).fetchall()
    return [StaleGoal(*r) for r in rows]


def count_active(db: SqliteDatabase) -> int:
    """How many goals are active."""
    return int(db.execute_sql("SELECT count(*) FROM life_goals WHERE status = ?", (ACTIVE,)).fetchone()[0])


def count_progress_since(db: SqliteDatabase, since: datetime) -> int:
    """How many progress updates were made at or after ``since``."""
    return int(db.execute_sql("SELECT count(*) FROM life_goal_metrics WHERE ts >= ?",
                              (to_db(since),)).fetchone()[0])
