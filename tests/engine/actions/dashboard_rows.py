"""Rows the dashboard query tests insert: decisions, alerts, notifications, outbox rows, attempts."""

from __future__ import annotations

import json
from datetime import datetime

from engine.timeutil import to_db


def decision(db, check: str, at: datetime, word: str = "SENT", reason: str = "first") -> int:
    return int(db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason, subjects)"
                              " VALUES (?, ?, ?, ?, 1)", (check, to_db(at), word, reason)).lastrowid)


def alert(db, check: str, subject: str, opened: datetime, state: str = "open", resolved: datetime | None = None,
          notified: datetime | None = None) -> int:
    return int(db.execute_sql(
        "INSERT INTO alerts (check_name, subject, severity, title, state, opened_at, last_seen_at, resolved_at,"
        " first_notified_at, last_notified_at) VALUES (?, ?, 'warning', ?, ?, ?, ?, ?, ?, ?)",
        (check, subject, f"{subject} found", state, to_db(opened), to_db(opened),
         to_db(resolved) if resolved else None, to_db(notified) if notified else None,
         to_db(notified) if notified else None)).lastrowid)


def notification(db, check: str, alert_ids: list[int], at: datetime, kind: str = "alert") -> int:
    return int(db.execute_sql(
        "INSERT INTO notifications (check_name, kind, severity, title, body, alert_ids, created_at)"
        " VALUES (?, ?, 'warning', ?, '', ?, ?)", (check, kind, f"{kind} {alert_ids}", json.dumps(alert_ids),
                                                   to_db(at))).lastrowid)


def outbox(db, notification_id: int, channel: str, at: datetime, state: str = "sent", attempts: int = 1,
           error: str | None = None) -> int:
    return int(db.execute_sql(
        "INSERT INTO outbox (notification_id, channel, idempotency_key, state, attempts, created_at, next_attempt_at,"
        " sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (notification_id, channel, f"{notification_id}:{channel}", state, attempts, to_db(at), to_db(at),
         to_db(at) if state == "sent" else None, error)).lastrowid)


def attempt(db, outbox_id: int, at: datetime, ok: bool, error: str | None = None) -> int:
    return int(db.execute_sql("INSERT INTO delivery_attempts (outbox_id, ts, ok, error) VALUES (?, ?, ?, ?)",
                              (outbox_id, to_db(at), int(ok), error)).lastrowid)
