"""engine.delivery.history: the dashboard's delivery lookups read indexes, not whole tables."""

from __future__ import annotations

from engine.store.db import connection


def _plan(db, sql: str, params: tuple) -> str:
    return " | ".join(str(r[3]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_the_notifications_about_an_alert_are_found_by_check_and_time_then_their_outbox_rows(db):
    with connection(db):
        plan = _plan(db, "SELECT o.channel FROM notifications n JOIN outbox o ON o.notification_id = n.id"
                         " WHERE n.check_name IN (?, ?) AND n.created_at >= ? AND n.created_at <= ?",
                     ("disk", "digest", "a", "b"))
    assert "ix_notifications_check_created" in plan and "ix_outbox_notification" in plan

