"""What the check runs say over time (``check_runs``, owned by CheckService): runs per time
bucket and outcome for status strips, outcome counts for uptime summaries, and the latest run with
its findings. Read-only; every query is bounded by a check name and a time range or a LIMIT."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from engine.timeutil import from_db, to_db

# Reads only the index ix_check_runs_check_started_outcome (the overview draws 14 strips per view).
RUN_BUCKETS_SQL = (
    "SELECT CAST((julianday(started_at) - julianday(?)) * 86400.0 / ? AS INTEGER) AS bucket, outcome, count(*)"
    " FROM check_runs WHERE check_name = ? AND started_at >= ? AND started_at < ? GROUP BY bucket, outcome")


def run_buckets(db: SqliteDatabase, check: str, start: datetime, width_seconds: float,
                count: int) -> list[tuple[int, str, int]]:
    """(bucket index, outcome, runs) for the runs of ``check`` started in ``count`` buckets of
    ``width_seconds`` from ``start``; bucket 0 is the oldest. Empty buckets are not listed."""
    end = start.timestamp() + width_seconds * count
    rows = db.execute_sql(
        RUN_BUCKETS_SQL,
        (to_db(start), width_seconds, check, to_db(start), to_db(datetime.fromtimestamp(end, start.tzinfo))),
    ).fetchall()
    return [(min(max(int(b), 0), count - 1), str(outcome), int(n)) for b, outcome, n in rows]


def outcome_counts(db: SqliteDatabase, check: str, since: datetime) -> dict[str, int]:
    """Runs of ``check`` started at or after ``since``, per outcome (ok / firing / error)."""
    rows = db.execute_sql("SELECT outcome, count(*) FROM check_runs WHERE check_name = ? AND started_at >= ?"
                          " GROUP BY outcome", (check, to_db(since))).fetchall()
    return {str(outcome): int(n) for outcome, n in rows}


@dataclass(frozen=True)
class LastRun:
    """The latest recorded run of a check and what it found (at most the 200 findings stored)."""

    id: int
    started_at: str
    finished_at: str
    outcome: str
    error: str | None
    trigger: str | None
    findings: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "started_at": self.started_at, "finished_at": self.finished_at,
                "outcome": self.outcome, "error": self.error, "trigger": self.trigger,
                "findings": list(self.findings)}


def last_run(db: SqliteDatabase, check: str) -> LastRun | None:
    """The latest run of ``check`` (latest started, then highest id), or None when it never ran."""
    row = db.execute_sql(
        "SELECT id, started_at, finished_at, outcome, error, trigger, findings_json FROM check_runs"
        " WHERE check_name = ? ORDER BY started_at DESC, id DESC LIMIT 1", (check,)).fetchone()
    if row is None:
        return None
    try:
        found = json.loads(row[6]) if row[6] else []
    except ValueError:
        found = []
    findings = tuple(f for f in found if isinstance(f, dict)) if isinstance(found, list) else ()
    return LastRun(int(row[0]), row[1], row[2], row[3], row[4], row[5], findings)


def run_totals(db: SqliteDatabase) -> list[tuple[str, str, int]]:
    """(check, outcome, runs) for every recorded run still kept (retention prunes old ones): read from
    check_run_totals, which triggers keep equal to the rows of check_runs (no scan of every run)."""
    rows = db.execute_sql("SELECT check_name, outcome, runs FROM check_run_totals WHERE runs > 0"
                          " ORDER BY check_name, outcome").fetchall()
    return [(str(check), str(outcome), int(n)) for check, outcome, n in rows]


def last_durations(db: SqliteDatabase) -> dict[str, float]:
    """Seconds the latest run of each check took (finished minus started): one (check, id) index seek
    per check that has runs (ix_check_runs_check_id), never a GROUP BY over every run."""
    rows = db.execute_sql(
        "SELECT r.check_name, r.started_at, r.finished_at FROM check_runs r"
        " WHERE r.id IN (SELECT (SELECT max(c.id) FROM check_runs c WHERE c.check_name = t.check_name)"
        " FROM (SELECT DISTINCT check_name FROM check_run_totals WHERE runs > 0) t)").fetchall()
    return {str(check): max((from_db(finished) - from_db(started)).total_seconds(), 0.0)
            for check, started, finished in rows}
