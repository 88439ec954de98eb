"""Every goal at once, for a board: the domains, each goal with its last progress, its sub-goals
and the goals it depends on, read in four queries (no per-goal round trips)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import SqliteDatabase

from engine.life.goals import _GOAL_COLS, _GOAL_FROM, _SUB_COLS, Domain, Goal, SubGoal, list_domains


@dataclass(frozen=True)
class BoardGoal:
    """A goal with when it last moved (newest progress update, else ``last_progress_at``, else
    creation: the goal_staleness rule), its sub-goals and the ids of the goals it depends on."""

    goal: Goal
    last_progress: str
    sub_goals: tuple[SubGoal, ...]
    depends_on: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.goal.to_dict(), "last_progress": self.last_progress,
                "sub_goals": [s.to_dict() for s in self.sub_goals], "depends_on": list(self.depends_on)}


def board(db: SqliteDatabase) -> tuple[list[Domain], list[BoardGoal]]:
    """The domains by name and every goal in creation order."""
    rows = db.execute_sql(
        f"SELECT {', '.join(_GOAL_COLS)}, COALESCE((SELECT max(m.ts) FROM life_goal_metrics m WHERE m.goal_id = g.id),"
        f" g.last_progress_at, g.created_at) FROM {_GOAL_FROM} ORDER BY g.id").fetchall()
    subs: dict[int, list[SubGoal]] = {}
    for r in db.execute_sql(f"SELECT {', '.join(_SUB_COLS)} FROM life_sub_goals ORDER BY id").fetchall():
        sub = SubGoal(*r)
        subs.setdefault(sub.goal_id, []).append(sub)
    deps: dict[int, list[int]] = {}
    for goal_id, depends_on in db.execute_sql(
            "SELECT goal_id, depends_on_goal_id FROM life_goal_dependencies ORDER BY goal_id, depends_on_goal_id"):
        deps.setdefault(int(goal_id), []).append(int(depends_on))
    goals = []
    for r in rows:
        goal = Goal(*r[:-1])
        goals.append(BoardGoal(goal, str(r[-1]), tuple(subs.get(goal.id, ())), tuple(deps.get(goal.id, ()))))
    return list_domains(db), goals
