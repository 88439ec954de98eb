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
