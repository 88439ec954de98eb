"""goal_staleness: an active goal with no progress update for N+ days."""

from __future__ import annotations

from datetime import timedelta

from engine.checks.base import CheckContext, CheckKind, Param, number_in
from engine.findings import Finding
from engine.life import goals
from engine.timeutil import from_db
from engine.vocabulary import Severity


class GoalStalenessCheck(CheckKind):
    kind = "goal_staleness"
    description = "Goals with no progress update in 14+ days."
    schedule = "every 6h"
    cooldown = "7d"
    severity = Severity.INFO
    params = {"days": Param(14, "Days without a progress update before a goal counts as stale.",
                            number_in(0, 3650, "days", low_open=True))}

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        cutoff = ctx.now - timedelta(days=ctx.params["days"])
        findings = []
        for goal in goals.stale(ctx.db, no_progress_since=cutoff):
            days = (ctx.now - from_db(goal.last_progress)).days
            where = f" ({goal.domain})" if goal.domain else ""
            findings.append(Finding(
                subject=f"goal:{goal.id}",
                severity=self.severity,
                title=f"Goal '{goal.title}'{where}: no progress for {days} days",
                detail=f"last progress {goal.last_progress[:10]}",
            ))
        return findings
