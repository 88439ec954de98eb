"""The overview's check rows: each configured check with its status strips of the last 24 h and
7 d, its last run and its next run (from the scheduler, as the snapshot's jobs show it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions.history import StatusStrip, status_strip
from engine.actions.target import Target, check_service, connected
from engine.checks import history
from engine.checks.history import LastRun
from engine.timeutil import to_db

OVERVIEW_SPANS = ("24h", "7d")


@dataclass(frozen=True)
class CheckRow:
    """One check on the overview."""

    name: str
    kind: str
    enabled: bool
    schedule: str
    last_run: LastRun | None
    next_run: str | None
    running: bool
    strips: tuple[StatusStrip, ...]

    def to_dict(self) -> dict[str, Any]:
        last = self.last_run
        return {"name": self.name, "kind": self.kind, "enabled": self.enabled, "schedule": self.schedule,
                "last_run": {k: v for k, v in last.to_dict().items() if k != "findings"} if last else None,
                "last_findings": len(last.findings) if last else None, "next_run": self.next_run,
                "running": self.running, "strips": {s.span: s.to_dict() for s in self.strips}}


def check_rows(target: Target, spans: tuple[str, ...] = OVERVIEW_SPANS) -> tuple[CheckRow, ...]:
    """Every configured check in configuration order, with its strips over ``spans``."""
    checks = check_service(target)
    scheduler = target.scheduler
    out = []
    # one connection for every row: a thread without one (the API's workers) would otherwise open
    # and close one per query, with a cold page cache each time (half the page's time on a big history)
    with connected(target) as db:
        for name, d in checks.definitions.items():
            last = history.last_run(db, name)
            scheduled = scheduler is not None and name in scheduler.specs
            next_run = scheduler.next_run(name) if scheduler is not None and scheduled else None
            running = bool(scheduler is not None and scheduled and scheduler.states[name].running)
            out.append(CheckRow(name, d.kind.kind, d.enabled, d.schedule, last, to_db(next_run) if next_run else None,
                                running, tuple(status_strip(target, name, s) for s in spans)))
    return tuple(out)
