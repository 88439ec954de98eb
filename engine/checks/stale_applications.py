"""stale_applications: a job application sitting in "applied" for N+ days."""

from __future__ import annotations

from datetime import timedelta

from engine.checks.base import CheckContext, CheckKind, Param, number_in
from engine.findings import Finding
from engine.life import applications
from engine.timeutil import from_db
from engine.vocabulary import Severity


class StaleApplicationsCheck(CheckKind):
    kind = "stale_applications"
    description = 'Job applications in "applied" status for 7+ days.'
    schedule = "every 1h"
    cooldown = "24h"
    severity = Severity.WARNING
    params = {"days": Param(7, "Days in applied status before an application counts as stale.",
                            number_in(0, 3650, "days", low_open=True))}

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        cutoff = ctx.now - timedelta(days=ctx.params["days"])
        findings = []
        for app in applications.awaiting_answer(ctx.db, applied_before=cutoff):
            days = (ctx.now - from_db(app.applied_at)).days
            findings.append(Finding(
                subject=f"application:{app.id}",
                severity=self.severity,
                title=f"{app.role} at {app.company}: no answer for {days} days",
                detail=f"applied {app.applied_at[:10]}; still in 'applied' status",
            ))
        return findings
