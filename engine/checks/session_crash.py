"""session_crash: an active work session with no activity for N+ minutes of awake time.

Time the machine was asleep or Watchkeeper was down (heartbeat gaps) does not count as
inactivity: a laptop closed for three hours mid-session is not a crashed session.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.checks.base import CheckContext, CheckKind, Param, number_in
from engine.findings import Finding
from engine.heartbeat import Gap, gaps_between
from engine.life import work_sessions
from engine.timeutil import from_db, human_time, spaced_duration
from engine.vocabulary import Severity


def awake_inactivity(last_activity: datetime, now: datetime, gaps: list[Gap]) -> timedelta:
    """``now - last_activity`` minus the parts covered by gaps (merged, clipped)."""
    total = now - last_activity
    covered = timedelta()
    cursor = last_activity
    for gap in sorted(gaps, key=lambda g: g.start):
        start, end = max(gap.start, cursor), min(gap.end, now)
        if end > start:
            covered += end - start
            cursor = end
    return total - covered


class SessionCrashCheck(CheckKind):
    kind = "session_crash"
    description = "Active work sessions with no activity for 30+ minutes (sleep excluded)."
    schedule = "every 5m"
    cooldown = "1h"
    severity = Severity.WARNING
    params = {"minutes": Param(30, "Minutes without activity before a session counts as stalled.",
                               number_in(0, 525600, "minutes", low_open=True))}

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        limit = timedelta(minutes=ctx.params["minutes"])
        findings = []
        for session in work_sessions.open_sessions(ctx.db):
            last = from_db(session.last_activity_at)
            if ctx.now - last < limit:
                continue
            idle = awake_inactivity(last, ctx.now, gaps_between(ctx.db, last, ctx.now))
            if idle < limit:
                continue
            interrupted = session.interrupted_reason
            why = f"; it stopped mid-turn ({interrupted})" if interrupted else ""
            findings.append(Finding(
                subject=f"session:{session.id}",
                severity=self.severity,
                title=f"No activity in session '{session.name}' for {spaced_duration(idle)}",
                detail=f"last activity {human_time(last, ctx.zone)}{why}",
            ))
        return findings
