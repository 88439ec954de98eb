"""The three data checks on a real database with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.checks.base import CheckContext
from engine.checks.goal_staleness import GoalStalenessCheck
from engine.checks.session_crash import SessionCrashCheck, awake_inactivity
from engine.checks.stale_applications import StaleApplicationsCheck
from engine.heartbeat import Gap, record_gap
from engine.life import applications, goals, work_sessions

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def ctx(db, kind, **params) -> CheckContext:
    full = {k: p.default for k, p in kind.params.items()}
    full.update(params)
    return CheckContext(db=db, now=NOW, params=full, name=kind.kind)


def add_app(db, company: str, days: float, status: str = "applied") -> None:
    applications.create(db, company=company, role="Dev", status=status, now=NOW - timedelta(days=days))


def test_stale_applications_after_seven_days_in_applied(db):
    add_app(db, "Old", 7)
    add_app(db, "Fresh", 6.9)
    add_app(db, "Rejected", 30, status="rejected")
    findings = StaleApplicationsCheck().evaluate(ctx(db, StaleApplicationsCheck))
    assert [f.title for f in findings] == ["Dev at Old: no answer for 7 days"]
    assert findings[0].subject == "application:1"
    assert StaleApplicationsCheck().evaluate(ctx(db, StaleApplicationsCheck, days=8)) == []


def test_goal_staleness_uses_the_newest_progress_update(db):
    run, read, _ = (goals.create(db, title=title, status=status, now=NOW - timedelta(days=60))
                    for title, status in (("Run", "active"), ("Read", "active"), ("Done", "done")))
    goals.add_progress(db, run.id, now=NOW - timedelta(days=20), value=1)
    goals.add_progress(db, read.id, now=NOW - timedelta(days=3), value=1)
    findings = GoalStalenessCheck().evaluate(ctx(db, GoalStalenessCheck))
    assert [(f.subject, f.title) for f in findings] == [("goal:1", "Goal 'Run': no progress for 20 days")]


def add_session(db, minutes_idle: float, reason: str | None = None) -> None:
    work_sessions.start(db, name="billing", now=NOW - timedelta(hours=5),
                        last_activity_at=NOW - timedelta(minutes=minutes_idle), interrupted_reason=reason)


def test_session_idle_30_minutes_is_reported_with_why(db):
    add_session(db, 45, "tool call without result: Bash")
    [finding] = SessionCrashCheck().evaluate(ctx(db, SessionCrashCheck))
    assert finding.title == "No activity in session 'billing' for 45 min"
    assert "stopped mid-turn (tool call without result: Bash)" in finding.detail


def test_session_idle_less_than_threshold_is_fine(db):
    add_session(db, 29)
    assert SessionCrashCheck().evaluate(ctx(db, SessionCrashCheck)) == []


def test_laptop_asleep_three_hours_during_a_session_is_not_a_crash(db):
    add_session(db, 3 * 60 + 10)  # last activity 3h10m ago...
    record_gap(db, Gap(NOW - timedelta(hours=3, minutes=5), NOW - timedelta(minutes=2), "asleep"), NOW)
    # ...but the machine slept for 3h03m of it: 7 awake minutes
    assert SessionCrashCheck().evaluate(ctx(db, SessionCrashCheck)) == []
    add_session(db, 4 * 60)  # a session idle for 4 h with only 3 h of sleep: 57 awake minutes
    [finding] = SessionCrashCheck().evaluate(ctx(db, SessionCrashCheck))
    assert finding.subject == "session:2"


def test_awake_inactivity_merges_overlapping_gaps():
    last = NOW - timedelta(hours=2)
    gaps = [Gap(NOW - timedelta(minutes=90), NOW - timedelta(minutes=30), "asleep"),
            Gap(NOW - timedelta(minutes=60), NOW - timedelta(minutes=20), "down")]
    assert awake_inactivity(last, NOW, gaps) == timedelta(minutes=50)
