"""stale_applications: a job application sitting in "applied" for N+ days."""

from __future__ import annotations

from datetime import timedelta

from engine.checks.base import CheckContext, CheckKind, Finding, Param, number_in
from engine.timeutil import from_db, to_db


class StaleApplicationsCheck(CheckKind):
    kind = "stale_applications"
    description = 'Job applications in "applied" status for 7+ days.'
    schedule = "every 1h"
    cooldown = "24h"
    severity = "warning"
    params = {"days": Param(7, "Days in applied status before an application counts as stale.",
                            number_in(0, 3650, "days", low_open=True))}

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        cutoff = ctx.now - timedelta(days=ctx.params["days"])
        rows = ctx.db.execute_sql(
            "SELECT id, company, role, applied_at FROM applications"
            " WHERE status = 'applied' AND applied_at <= ? ORDER BY applied_at",
            (to_db(cutoff),),
        ).fetchall()
        findings = []
        for app_id, company, role, applied_at in rows:
            days = (ctx.now - from_db(applied_at)).days
            findings.append(Finding(
                subject=f"application:{app_id}",
                severity=self.severity,
                title=f"{role} at {company}: no answer for {days} days",
                detail=f"applied {applied_at[:10]}; still in 'applied' status",
            ))
        return findings
