"""The goals page: domains, every goal with its sub-goals and dependencies, and how stale each
active goal is (whole days since its last progress, against the goal_staleness check's threshold)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions.target import Target, connected
from engine.checks.goal_staleness import GoalStalenessCheck
from engine.life.board import BoardGoal, board
from engine.life.goals import ACTIVE, Domain
from engine.timeutil import from_db


@dataclass(frozen=True)
class GoalCard:
    """A goal on the board; ``stale``: active and idle for at least the threshold."""

    goal: BoardGoal
    idle_days: int
    stale: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.goal.to_dict(), "idle_days": self.idle_days, "stale": self.stale}


@dataclass(frozen=True)
class GoalsBoard:
    domains: tuple[Domain, ...]
    goals: tuple[GoalCard, ...]
    stale_after_days: float

    def to_dict(self) -> dict[str, Any]:
        return {"domains": [d.to_dict() for d in self.domains], "goals": [g.to_dict() for g in self.goals],
                "stale_after_days": self.stale_after_days}


def stale_after_days(target: Target) -> float:
    """The goal_staleness check's ``days`` as configured (its default when no such check is configured)."""
    checks = target.checks
    for d in (checks.definitions.values() if checks is not None else ()):
        if d.kind.kind == GoalStalenessCheck.kind:
            return float(d.params.get("days", GoalStalenessCheck.params["days"].default))
    return float(GoalStalenessCheck.params["days"].default)


def goals_board(target: Target) -> GoalsBoard:
    """Every domain and goal (creation order) with staleness at ``target.now()``."""
    threshold = stale_after_days(target)
    now = target.now()
    with connected(target) as db:
        domains, goals = board(db)
    cards = []
    for g in goals:
        idle = now - from_db(g.last_progress)
        stale = g.goal.status == ACTIVE and idle.total_seconds() >= threshold * 86400
        cards.append(GoalCard(g, max(0, idle.days), stale))
    return GoalsBoard(tuple(domains), tuple(cards), threshold)
