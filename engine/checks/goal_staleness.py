"""goal_staleness: an active goal with no progress update for N+ days."""

from __future__ import annotations

from datetime import timedelta

from engine.checks.base import CheckContext, CheckKind, Finding, Param, number_in
from engine.timeutil import from_db, to_db


class GoalStalenessCheck(CheckKind):
    kind = "goal_staleness"
    description = "Goals with no progress update in 14+ days."
    schedule = "every 6h"
    cooldown = "7d"
    severity = "info"
    params = {"days": Param(14, "Days without a progress update before a goal counts as stale.",
                            number_in(0, 3650, "days", low_open=True))}

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        cutoff = ctx.now - timedelta(days=ctx.params["days"])
        # Last progress = the newest metric, else last_progress_at, else creation.
        rows = ctx.db.execute_sql(
            """SELECT g.id, g.title, d.name,
                      COALESCE((SELECT max(m.ts) FROM life_goal_metrics m WHERE m.goal_id = g.id),
                               g.last_progress_at, g.created_at) AS last
               FROM life_goals g LEFT JOIN life_domains d ON d.id = g.domain_id
               WHERE g.status = 'active' AND last <= ? ORDER BY last""",
            (to_db(cutoff),),
        ).fetchall()
        findings = []
        for goal_id, title, domain, last in rows:
            days = (ctx.now - from_db(last)).days
            where = f" ({domain})" if domain else ""
            findings.append(Finding(
                subject=f"goal:{goal_id}",
                severity=self.severity,
                title=f"Goal '{title}'{where}: no progress for {days} days",
                detail=f"last progress {last[:10]}",
            ))
        return findings
