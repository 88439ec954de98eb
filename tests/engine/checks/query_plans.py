"""The query plans of what a call reads from check_runs (the statements traced as they run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def check_runs_plans(db: Any, call: Callable[[], object]) -> list[str]:
    """EXPLAIN QUERY PLAN of each SELECT on check_runs that ``call()`` runs, one line per statement."""
    statements: list[str] = []
    db.connection().set_trace_callback(statements.append)
    try:
        call()
    finally:
        db.connection().set_trace_callback(None)
    return [" | ".join(str(r[3]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql).fetchall())
            for sql in statements if "FROM check_runs" in sql and sql.lstrip().upper().startswith("SELECT")]
