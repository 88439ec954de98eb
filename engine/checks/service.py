"""Running checks: evaluate with a timeout, record the run, hand findings to the dispatcher.

A check that raises or times out is recorded as an error run (and a discovered event) and shows
in health; it never stops the scheduler. Runs of one check are serialised (scheduled run and
"run now" never overlap).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from peewee import SqliteDatabase

from engine import runtime_state
from engine.alerts.dispatcher import Dispatcher, DispatchResult, Explanation
from engine.checks.base import CheckContext, CheckDefinition, CheckError
from engine.checks.children import ChildRegistry
from engine.checks.command import bounded_timeout
from engine.checks.registry import CheckKinds, build_definitions
from engine.events import record_event
from engine.findings import Finding
from engine.store.db import connection
from engine.timeutil import parse_duration, to_db
from engine.vocabulary import Severity

log = logging.getLogger(__name__)


class UnknownCheck(LookupError):
    """No check of that name is configured; the message lists the known ones."""


class CheckAbandoned(Exception):
    """The service closed (the engine stops) while the check ran, or before it could start."""


class CheckOutcome(StrEnum):
    """How a check run ended (``check_runs.outcome``)."""

    OK = "ok"  # nothing found
    FIRING = "firing"  # findings, handed to the dispatcher
    ERROR = "error"  # could not evaluate (CheckError, timeout)


@dataclass(frozen=True)
class CheckRun:
    check_name: str
    outcome: CheckOutcome
    findings: list[Finding]
    error: str | None
    dispatch: DispatchResult | None

    def to_dict(self) -> dict[str, Any]:
        d = self.dispatch
        return {
            "check": self.check_name, "outcome": self.outcome, "findings": len(self.findings),
            "error": self.error,
            "decision": d.decision.action if d and d.decision else None,
            "reason": d.decision.reason if d and d.decision else None,
            "notification_id": d.notification_id if d else None,
            "resolved": len(d.resolved) if d else 0,
        }


class CheckService:
    """The configured checks of this instance and how to run and explain them."""

    def __init__(self, db: SqliteDatabase, definitions: list[CheckDefinition], dispatcher: Dispatcher,
                 now: Callable[[], datetime], tz: tzinfo):
        self.db = db
        self.definitions = {d.name: d for d in definitions}
        self.dispatcher = dispatcher
        self.now = now
        self.tz = tz
        self._locks = {name: threading.Lock() for name in self.definitions}
        self.children = ChildRegistry()
        self._closed = threading.Event()
        self._waits: set[threading.Event] = set()  # one per evaluation in progress
        self._waits_lock = threading.Lock()
        self.last_run_at: datetime | None = None

    def reconfigure(self, definitions: list[CheckDefinition], quiet: Any) -> None:
        """Use ``definitions`` and the quiet hours ``quiet`` from now on (an edited config applied
        live); a run in progress finishes with the definition it started with."""
        for d in definitions:
            self._locks.setdefault(d.name, threading.Lock())
        self.definitions = {d.name: d for d in definitions}
        self.dispatcher.quiet = quiet

    @property
    def enabled(self) -> list[CheckDefinition]:
        return [d for d in self.definitions.values() if d.enabled]

    def get(self, name: str) -> CheckDefinition:
        """The definition of ``name``; UnknownCheck naming the known checks."""
        if name not in self.definitions:
            raise UnknownCheck(f"no check named {name!r}; checks: {', '.join(self.definitions)}")
        return self.definitions[name]

    def evaluate(self, definition: CheckDefinition, now: datetime) -> list[Finding]:
        """Run the check's evaluate() in a worker with its timeout; CheckError on failure,
        CheckAbandoned when the service closes meanwhile.

        The worker is a daemon thread: one that never returns (abandoned at its timeout or at
        shutdown) cannot keep the process alive; the programs it started are killed by close().
        """
        prefix = f"check.{definition.name}."

        def get_state(key: str) -> str | None:
            with connection(self.db):
                return runtime_state.get_value(self.db, prefix + key)

        def set_state(key: str, value: str | None) -> None:
            with connection(self.db):
                runtime_state.set_value(self.db, prefix + key, value)

        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                with connection(self.db):
                    ctx = CheckContext(db=self.db, now=now, params=dict(definition.params), name=definition.name,
                                       get_state=get_state, set_state=set_state, children=self.children,
                                       zone=self.tz)
                    outcome["findings"] = list(definition.kind().evaluate(ctx))
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc
            finally:
                done.set()

        timeout = bounded_timeout(float(definition.params.get("timeout_seconds", definition.kind.timeout_seconds)))
        timeout += 5
        with self._waits_lock:
            if self._closed.is_set():
                raise CheckAbandoned(f"{definition.name} not run: the engine is shutting down")
            self._waits.add(done)
        try:
            threading.Thread(target=work, name=f"check-{definition.name}", daemon=True).start()
            finished = done.wait(timeout)
        finally:
            with self._waits_lock:
                self._waits.discard(done)
        if self._closed.is_set():
            raise CheckAbandoned(f"{definition.name} was stopped: the engine is shutting down")
        if not finished:
            raise CheckError(f"timed out after {timeout:.0f} s")
        error = outcome.get("error")
        if isinstance(error, CheckError):
            raise error
        if isinstance(error, BaseException):
            raise CheckError(f"{type(error).__name__}: {error}") from error
        return list(outcome["findings"])

    def close(self, grace: float = 0.0) -> list[int]:
        """Let running evaluations finish for up to ``grace`` seconds, then abandon them (their
        callers get CheckAbandoned) and kill the programs they started; return those pids.
        No check runs after this."""
        deadline = time.monotonic() + max(grace, 0.0)
        with self._waits_lock:
            pending = list(self._waits)
        for done in pending:
            done.wait(max(0.0, deadline - time.monotonic()))
        with self._waits_lock:
            self._closed.set()
            pending = list(self._waits)
        killed = self.children.close()
        for done in pending:
            done.set()  # wakes the waiting caller, which sees the service closed
        return killed

    def run(self, name: str, trigger: str = "schedule") -> CheckRun:
        """Evaluate, record and dispatch one check (serialised per check)."""
        definition = self.get(name)
        with self._locks[name], connection(self.db):
            started = self.now()
            findings: list[Finding] = []
            error = None
            try:
                findings = self.evaluate(definition, started)
            except CheckError as exc:
                error = str(exc)
                log.warning("check %s failed: %s", name, error)
            finished = self.now()
            outcome = CheckOutcome.ERROR if error else (CheckOutcome.FIRING if findings else CheckOutcome.OK)
            self.db.execute_sql(
                "INSERT INTO check_runs (check_name, started_at, finished_at, outcome, findings, findings_json,"
                " error, trigger) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, to_db(started), to_db(finished), outcome, len(findings),
                 json.dumps([f.__dict__ for f in findings][:200]), error, trigger),
            )
            self.last_run_at = finished
            if error:
                record_event(self.db, ts=finished, source=name, kind="check_error", subject=name,
                             severity=Severity.WARNING, detail={"error": error})
                return CheckRun(name, outcome, [], error, None)
            result = self.dispatcher.dispatch(name, findings, parse_duration(definition.cooldown), finished)
            # What the check newly noticed (a new listener, a stalled session, ...), notified or not.
            by_subject = {f.subject: f for f in findings}
            for alert_id in result.opened:
                subject = self.db.execute_sql("SELECT subject FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0]
                finding = by_subject[subject]
                record_event(self.db, ts=finished, source=name, kind="new_finding", subject=subject,
                             severity=finding.severity, detail={"title": finding.title, "alert_id": alert_id})
            return CheckRun(name, outcome, findings, None, result)

    def run_all(self, trigger: str = "manual") -> list[CheckRun]:
        """Run every enabled check in order."""
        return [self.run(d.name, trigger) for d in self.enabled]

    def explain(self, name: str) -> Explanation:
        """The cooldown decision for ``name`` now."""
        definition = self.get(name)
        with connection(self.db):
            return self.dispatcher.explain(name, parse_duration(definition.cooldown), self.now(), self.tz)

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """The latest recorded run (highest id) of each configured check that ran: one index seek per
        check (ix_check_runs_check_id), never a scan of every run (200 ms at a million runs)."""
        with connection(self.db):
            rows = [self.db.execute_sql(LAST_RUN_SQL, (name,)).fetchone() for name in self.definitions]
        return {r[0]: {"finished_at": r[1], "outcome": r[2], "findings": r[3], "error": r[4]} for r in rows if r}



# by id, not by time: a clock set back must not let a future-stamped run hide the later ones
LAST_RUN_SQL = ("SELECT check_name, finished_at, outcome, findings, error FROM check_runs"
                " WHERE id = (SELECT max(id) FROM check_runs WHERE check_name = ?)")

def build_service(db: SqliteDatabase, config: Any, now: Callable[[], datetime], kinds: CheckKinds) -> CheckService:
    """The CheckService for ``config`` (used by the engine and by the CLI without an instance)."""
    from engine.timeutil import resolve_timezone

    tz = resolve_timezone(config.general.timezone)
    definitions, _ = build_definitions(config, kinds)
    return CheckService(db, definitions, Dispatcher(db, quiet=quiet_hours(config, tz)), now, tz)


def quiet_hours(config: Any, tz: tzinfo) -> Any:
    """The quiet hours ``[alerts]`` configures, in ``tz`` (None when off)."""
    from engine.alerts.policy import QuietHours

    return QuietHours.from_config(config.alerts.quiet_hours_start, config.alerts.quiet_hours_end,
                                  config.alerts.quiet_hours_weekdays, tz)
