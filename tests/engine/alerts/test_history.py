"""engine.alerts.history and the alerts indexes the dashboard reads."""

from __future__ import annotations

from engine.store.db import connection


def _plan(db, sql: str, params: tuple) -> str:
    return " | ".join(str(r[3]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_a_checks_decisions_page_reads_the_check_and_id_index(db):
    with connection(db):
        plan = _plan(db, "SELECT id FROM heartbeat_log WHERE check_name = ? ORDER BY id DESC LIMIT 50", ("disk",))
    assert "ix_heartbeat_log_check_id" in plan and "TEMP B-TREE" not in plan
