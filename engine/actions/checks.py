"""Check actions: list checks and one check's detail, run checks now, why (the cooldown decision),
schedule a job now, and the heartbeat log of notification decisions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from engine.actions.delivery import Route, notification_routes
from engine.actions.errors import NotFound
from engine.actions.paging import Page, Row, rows, select_page, since_until
from engine.actions.target import Instance, Target, check_service, connected
from engine.alerts.dispatcher import Explanation
from engine.checks.service import CheckRun, UnknownCheck
from engine.timeutil import to_db


@dataclass(frozen=True)
class CheckInfo:
    """A configured check: its settings, next and last run, and how many alerts are live."""

    name: str
    kind: str
    description: str
    enabled: bool
    schedule: str
    cooldown: str
    severity: str
    next_run: str | None
    last_run: str | None
    last_outcome: str | None
    last_findings: int | None
    last_error: str | None
    open_alerts: int

    def to_dict(self) -> Row:
        return asdict(self)


@dataclass(frozen=True)
class CheckDetail:
    """One check with its parameters and recent runs (newest first)."""

    check: CheckInfo
    params: dict[str, Any]
    recent_runs: tuple[Row, ...]

    def to_dict(self) -> Row:
        return {**self.check.to_dict(), "params": self.params, "recent_runs": list(self.recent_runs)}


@dataclass(frozen=True)
class CheckRuns:
    """What running checks now did, one run per check in the order asked, and where each
    notification went (``routes``: notification id -> its channels and their fate there)."""

    runs: tuple[CheckRun, ...]
    routes: Mapping[int, tuple[Route, ...]] = field(default_factory=dict)

    def to_dict(self) -> Row:
        out = []
        for run in self.runs:
            row = run.to_dict()
            nid = row.get("notification_id")
            row["delivered_to"] = [r.to_dict() for r in self.routes.get(nid, ())] if nid is not None else []
            out.append(row)
        return {"runs": out}


def _open_counts(target: Target) -> dict[str, int]:
    with connected(target) as db:
        return {r[0]: int(r[1]) for r in db.execute_sql(
            "SELECT check_name, count(*) FROM alerts WHERE state != 'resolved' GROUP BY check_name").fetchall()}


def _info(target: Target, name: str, runs: dict[str, Row], open_counts: dict[str, int]) -> CheckInfo:
    d = check_service(target).get(name)
    last = runs.get(name, {})
    scheduler = target.scheduler
    next_run = scheduler.next_run(name) if scheduler is not None and name in scheduler.specs else None
    return CheckInfo(name=d.name, kind=d.kind.kind, description=d.kind.description, enabled=d.enabled,
                     schedule=d.schedule, cooldown=d.cooldown, severity=d.severity,
                     next_run=to_db(next_run) if next_run else None, last_run=last.get("finished_at"),
                     last_outcome=last.get("outcome"), last_findings=last.get("findings"),
                     last_error=last.get("error"), open_alerts=open_counts.get(name, 0))


def known_check(target: Target, name: str) -> None:
    """NotFound naming the configured checks unless ``name`` is one."""
    try:
        check_service(target).get(name)
    except UnknownCheck as exc:
        raise NotFound(str(exc)) from exc


def list_checks(target: Target) -> tuple[CheckInfo, ...]:
    """Every configured check, in configuration order."""
    checks = check_service(target)
    runs, counts = checks.last_runs(), _open_counts(target)
    return tuple(_info(target, name, runs, counts) for name in checks.definitions)


def check_detail(target: Target, name: str, runs: int = 10) -> CheckDetail:
    """One check: its settings, parameters and its ``runs`` latest runs."""
    known_check(target, name)
    checks = check_service(target)
    info = _info(target, name, checks.last_runs(), _open_counts(target))
    with connected(target) as db:
        recent = rows(db, "SELECT id, started_at, finished_at, outcome, findings, error, trigger"
                      " FROM check_runs WHERE check_name = ? ORDER BY id DESC LIMIT ?", (name, runs),
                      ("id", "started_at", "finished_at", "outcome", "findings", "error", "trigger"))
    return CheckDetail(info, json.loads(json.dumps(checks.get(name).params, default=str)), tuple(recent))


def run_checks(target: Target, names: Sequence[str] | None, trigger: str) -> CheckRuns:
    """Evaluate the checks now (every enabled one when ``names`` is None or empty) and dispatch
    under the rate limits; blocks until they ran.

    Every name is checked before anything runs: an unknown one is NotFound naming the known checks.
    """
    checks = check_service(target)
    chosen = list(names) if names else [d.name for d in checks.enabled]
    for name in chosen:
        known_check(target, name)
    results = []
    for name in chosen:
        results.append(checks.run(name, trigger))
        target.publish()
    return CheckRuns(tuple(results), notification_routes(target, notification_ids(results)))


def notification_ids(runs: Sequence[CheckRun]) -> list[int]:
    """The notifications these runs queued."""
    return [r.dispatch.notification_id for r in runs if r.dispatch and r.dispatch.notification_id is not None]


def why(target: Target, name: str) -> Explanation:
    """The cooldown decision for check ``name`` now (NotFound for an unknown check)."""
    known_check(target, name)
    return check_service(target).explain(name)


def schedule_job(instance: Instance, name: object) -> str:
    """Hand job ``name`` (a check or a module) to the scheduler to run now, without waiting for it."""
    scheduler = instance.scheduler
    if not isinstance(name, str) or scheduler is None or not scheduler.run_now(name):
        raise NotFound(f"no such job: {name!r}")
    return name


def schedule_checks(instance: Instance) -> list[str]:
    """Hand every enabled check to the scheduler to run now; their names."""
    names = [d.name for d in instance.checks.enabled] if instance.checks else []
    for name in names:
        if instance.scheduler is not None:
            instance.scheduler.run_now(name)
    return names


def heartbeat_log(target: Target, *, check: str | None = None, decision: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: int = 100, offset: int = 0) -> Page:
    """Notification decisions (SENT / SUPPRESSED / DEFERRED …) with their reasons, newest first.

    Invalid unless 1 <= limit <= 1000 and offset >= 0; NotFound naming the configured checks when
    ``check`` is none of them and has no decisions either (a check removed from the config keeps its history)."""
    where: list[str] = []
    params: list[Any] = []
    if check:
        where.append("check_name = ?")
        params.append(check)
    if decision:
        where.append("decision = ?")
        params.append(decision)
    since_until("ts", since, until, where, params)
    with connected(target) as db:
        page = select_page(db, ("id", 'check_name AS "check"', "ts", "decision", "reason", "subjects",
                                "notification_id"), "heartbeat_log", where, params, "id DESC", limit, offset)
    if check and not page.total and not _has_decisions(target, check):
        known_check(target, check)
    return page


def _has_decisions(target: Target, check: str) -> bool:
    with connected(target) as db:
        found = db.execute_sql("SELECT 1 FROM heartbeat_log WHERE check_name = ? LIMIT 1", (check,)).fetchone()
    return found is not None
