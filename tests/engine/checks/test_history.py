"""engine.checks.history and the check_runs index the dashboard's status strips read."""

from __future__ import annotations

from datetime import datetime, timezone

from engine.checks import history
from engine.store.db import connection
from tests.engine.checks.query_plans import check_runs_plans


def test_a_strips_buckets_are_counted_from_the_index_alone(db):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with connection(db):
        plans = check_runs_plans(db, lambda: history.run_buckets(db, "disk_space", start, 1800.0, 48))
    assert len(plans) == 1 and "COVERING INDEX ix_check_runs_check_started_outcome" in plans[0], plans


def _add_runs(db, runs: list[tuple[str, str]]) -> None:
    db.cursor().executemany(
        "INSERT INTO check_runs (check_name, started_at, finished_at, outcome) VALUES (?, ?, ?, ?)",
        [(check, "2026-03-01T10:00:00.000000Z", "2026-03-01T10:00:02.500000Z", outcome) for check, outcome in runs])


def _grouped(db) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in db.execute_sql("SELECT check_name, outcome, count(*) FROM check_runs"
                                             " GROUP BY check_name, outcome ORDER BY check_name, outcome")]


def test_the_metrics_read_the_runs_without_scanning_every_run(db):
    with connection(db):
        _add_runs(db, [("disk_space", "ok"), ("endpoint", "error")])
        plans = check_runs_plans(db, lambda: (history.run_totals(db), history.last_durations(db)))
    assert plans and not any("SCAN check_runs" in plan or "SCAN c " in plan for plan in plans), plans


def test_the_run_totals_follow_inserts_prunes_and_outcome_changes(db):
    with connection(db):
        _add_runs(db, [("disk_space", "ok")] * 3 + [("disk_space", "firing"), ("endpoint", "error")])
        assert history.run_totals(db) == _grouped(db)
        db.execute_sql("UPDATE check_runs SET outcome = 'ok' WHERE check_name = 'endpoint'")
        db.execute_sql("DELETE FROM check_runs WHERE id IN (SELECT id FROM check_runs WHERE outcome = 'ok' LIMIT 2)")
        assert history.run_totals(db) == _grouped(db) == [("disk_space", "firing", 1), ("disk_space", "ok", 1),
                                                          ("endpoint", "ok", 1)]
        assert history.last_durations(db) == {"disk_space": 2.5, "endpoint": 2.5}


def test_the_totals_migration_counts_the_runs_already_stored(db):
    from engine.alerts.schema import MIGRATIONS

    totals = next(m for m in MIGRATIONS if m.name == "alerts_0006_check_run_totals")
    with connection(db):
        for trigger in ("insert", "delete", "update"):
            db.execute_sql(f"DROP TRIGGER tr_check_run_totals_{trigger}")
        db.execute_sql("DROP TABLE check_run_totals")  # as before the migration: runs without totals
        _add_runs(db, [("disk_space", "ok")] * 2 + [("endpoint", "firing")])
        totals.apply(db)
        assert history.run_totals(db) == _grouped(db) == [("disk_space", "ok", 2), ("endpoint", "firing", 1)]
        _add_runs(db, [("endpoint", "firing")])
        assert history.run_totals(db)[-1] == ("endpoint", "firing", 2)
