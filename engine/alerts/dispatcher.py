"""The dispatcher: after a check ran, reconcile its alerts, decide under the rate limits, and
queue at most one grouped notification — decision and notification in one transaction.

Every decision goes to heartbeat_log with its reason. Hooks registered in ``on_queue`` run in
the same transaction for each queued notification (the delivery outbox adds its rows there).

"Latest" means latest recorded (highest id), never highest timestamp: after the clock moved
back, a SENT stamped in the future must not hide the ones recorded since (nor the DEFERRED
decisions waiting for the digest). When the latest SENT is in the future, the policy's
clock-back anchor is kept in runtime_state under ``clock_back.<check>``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from peewee import SqliteDatabase

from engine import runtime_state
from engine.alerts import store
from engine.alerts.policy import (
    Decision,
    DecisionAction,
    PolicyInput,
    QuietHours,
    clock_back_anchor,
    decide,
    long_duration,
    spaced_duration,
)
from engine.alerts.templates import alert_title, render
from engine.findings import Finding
from engine.heartbeat import gaps_between
from engine.timeutil import from_db, human_time, to_db
from engine.vocabulary import NotificationKind, Severity, highest_severity, severity_rank

log = logging.getLogger(__name__)

QueueHook = Callable[[SqliteDatabase, int, str], None]  # (db, notification_id, severity)
MAX_SUBJECTS = 20  # subjects listed in one grouped notification; the rest are counted
MAX_LINE = 500  # characters of one subject or detail line


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


@dataclass(frozen=True)
class DispatchResult:
    check_name: str
    decision: Decision | None  # None: nothing to notify
    notification_id: int | None
    opened: list[int]
    resolved: list[int]
    recovery_ids: list[int]
    subjects: int


@dataclass(frozen=True)
class Explanation:
    check_name: str
    last_notified: datetime | None
    cooldown: timedelta
    now: datetime
    result: str
    notifiable: int
    tz: tzinfo

    def text(self) -> str:
        """The `check why` block."""

        def local(dt: datetime | None) -> str:
            return human_time(dt, self.tz, seconds=True)

        return "\n".join([
            f"Check: {self.check_name}",
            f"  Last notified: {local(self.last_notified)}",
            f"  Cooldown: {long_duration(self.cooldown)}",
            f"  Current time: {local(self.now)}",
            f"  Result: {self.result}",
        ])

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check_name,
                "last_notified": to_db(self.last_notified) if self.last_notified else None,
                "cooldown_seconds": self.cooldown.total_seconds(), "cooldown": long_duration(self.cooldown),
                "now": to_db(self.now), "result": self.result, "notifiable": self.notifiable}


LAST_SENT_SQL = "SELECT ts FROM heartbeat_log WHERE check_name = ? AND decision = 'SENT' ORDER BY id DESC LIMIT 1"


def last_sent(db: SqliteDatabase, check_name: str) -> datetime | None:
    """The time of the latest recorded SENT decision of a check (the cooldown lookup; indexed)."""
    row = db.execute_sql(LAST_SENT_SQL, (check_name,)).fetchone()
    return from_db(row[0]) if row else None


def _anchor_key(check_name: str) -> str:
    return f"clock_back.{check_name}"


def stored_clock_back(db: SqliteDatabase, check_name: str) -> tuple[datetime, datetime] | None:
    """The kept (last_sent, noticed_at) clock-back anchor of a check, or None."""
    value = runtime_state.get_value(db, _anchor_key(check_name))
    if not value:
        return None
    try:
        data = json.loads(value)
        return from_db(data["last_sent"]), from_db(data["noticed_at"])
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: counted as not noticed yet, which only suppresses longer


def clock_back_since(db: SqliteDatabase, check_name: str, sent: datetime | None, now: datetime,
                     cooldown: timedelta, *, keep: bool) -> datetime | None:
    """The clock-back anchor for this decision, or None.

    Reads runtime_state only when the wall clock alone would suppress (``sent`` less than a
    cooldown ago, or in the future); with ``keep`` a newly noticed anchor is stored.
    """
    if sent is None or now - sent >= cooldown:
        return None
    stored = stored_clock_back(db, check_name)
    anchor = clock_back_anchor(sent, now, stored)
    if keep and anchor is not None and stored != (sent, anchor):
        runtime_state.set_value(db, _anchor_key(check_name),
                                json.dumps({"last_sent": to_db(sent), "noticed_at": to_db(anchor)}), now)
    return anchor


def unseen_since(db: SqliteDatabase, since: datetime | None, now: datetime) -> timedelta:
    """Wall time between ``since`` and ``now`` inside recorded heartbeat gaps (overlaps counted once)."""
    if since is None or since >= now:
        return timedelta(0)
    total, reach = timedelta(0), since
    for gap in gaps_between(db, since, now):  # ordered by start
        start = max(gap.start, reach)
        if gap.end > start:
            total += gap.end - start
            reach = gap.end
    return total


@dataclass
class Dispatcher:
    db: SqliteDatabase
    quiet: QuietHours | None = None
    on_queue: list[QueueHook] = field(default_factory=list)
    on_queued: list[Callable[[], None]] = field(default_factory=list)  # after commit: wake workers

    def _log(self, check: str, now: datetime, decision: DecisionAction, reason: str, subjects: int,
             notification_id: int | None = None) -> int:
        cursor = self.db.execute_sql(
            "INSERT INTO heartbeat_log (check_name, ts, decision, reason, subjects, notification_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (check, to_db(now), decision, reason, subjects, notification_id),
        )
        return int(cursor.lastrowid)

    def _queue(self, check: str, kind: NotificationKind, severity: str, title: str, body: str, alert_ids: list[int],
               now: datetime, decision_id: int | None) -> int:
        cursor = self.db.execute_sql(
            "INSERT INTO notifications (check_name, kind, severity, title, body, alert_ids, created_at, decision_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (check, kind, severity, title, body, json.dumps(alert_ids), to_db(now), decision_id),
        )
        notification_id = int(cursor.lastrowid)
        if decision_id is not None:
            self.db.execute_sql("UPDATE heartbeat_log SET notification_id = ? WHERE id = ?",
                                (notification_id, decision_id))
        for hook in self.on_queue:
            hook(self.db, notification_id, severity)
        log.info("queued %s notification %d for %s: %s", kind, notification_id, check, title)
        return notification_id

    def grouped_body(self, check: str, alerts: list[store.Alert]) -> tuple[str, str]:
        """Title and body of one grouped notification for a check: at most MAX_SUBJECTS subjects
        (each line clipped), the rest summarised as "… and N more", so its size is bounded. A single
        alert is titled by itself and its body is its detail (the title is not said twice)."""
        title = alert_title(self.db, check, len(alerts), title=alerts[0].title if alerts else "",
                            subject=alerts[0].subject if alerts else "")
        if len(alerts) == 1 and alerts[0].title in title:
            return title, _clip(alerts[0].detail) if alerts[0].detail else ""
        lines = []
        for a in alerts[:MAX_SUBJECTS]:
            lines.append(_clip(render(self.db, "alert.line", check, title=a.title, subject=a.subject,
                                      severity=a.severity)))
            if a.detail:
                lines.append(_clip(render(self.db, "alert.detail", check, detail=a.detail)))
        if len(alerts) > MAX_SUBJECTS:
            lines.append(render(self.db, "alert.more", check, count=len(alerts) - MAX_SUBJECTS))
        return title, "\n".join(lines)

    def dispatch(self, check: str, findings: list[Finding], cooldown: timedelta, now: datetime) -> DispatchResult:
        """Reconcile alerts with ``findings`` and decide; one IMMEDIATE transaction."""
        queued = False
        with self.db.atomic("IMMEDIATE"):
            rec = store.reconcile(self.db, check, findings, now)
            paused = runtime_state.paused_until(self.db, now)
            recovery_ids = []
            for alert in rec.resolved:
                if alert.first_notified_at is None:
                    continue
                duration = spaced_duration(now - alert.opened_at)
                if paused is not None:
                    self._log(check, now, DecisionAction.SUPPRESSED, f"recovery of {alert.subject}: paused", 1)
                    continue
                decision_id = self._log(check, now, DecisionAction.RECOVERY,
                                        f"{alert.subject} resolved after {duration}", 1)
                recovery_ids.append(self._queue(
                    check, NotificationKind.RECOVERY, Severity.INFO,
                    render(self.db, "recovery.title", check, title=alert.title),
                    render(self.db, "recovery.body", check, title=alert.title, duration=duration),
                    [alert.id], now, decision_id))
            alerts = store.notifiable(self.db, check, now)
            decision = None
            notification_id = None
            if alerts:
                severity = highest_severity(a.severity for a in alerts)
                sent = last_sent(self.db, check)
                anchor = clock_back_since(self.db, check, sent, now, cooldown, keep=True)
                decision = decide(PolicyInput(check, cooldown, sent, now, severity, paused, self.quiet, anchor,
                                              unseen_since(self.db, anchor, now)))
                decision_id = self._log(check, now, decision.action, decision.reason, len(alerts))
                if decision.action == DecisionAction.SENT:
                    title, body = self.grouped_body(check, alerts)
                    notification_id = self._queue(check, NotificationKind.ALERT, severity, title, body,
                                                  [a.id for a in alerts], now, decision_id)
                    store.mark_notified(self.db, [a.id for a in alerts], now)
                    if anchor is not None:
                        runtime_state.set_value(self.db, _anchor_key(check), None)
            queued = bool(recovery_ids or notification_id)
        if queued:
            for wake in self.on_queued:
                wake()
        return DispatchResult(check, decision, notification_id, rec.opened, [a.id for a in rec.resolved],
                              recovery_ids, len(findings))

    def flush_deferred(self, now: datetime) -> int | None:
        """When quiet hours are over, send what was deferred as one digest; returns its id."""
        if self.quiet is not None and self.quiet.window_end(now) is not None:
            return None
        with self.db.atomic("IMMEDIATE"):
            if runtime_state.paused_until(self.db, now) is not None:
                return None
            # Deferred after the latest recorded SENT (by id: a clock set back must not hide them).
            rows = self.db.execute_sql(
                "SELECT DISTINCT d.check_name FROM heartbeat_log d WHERE d.decision = 'DEFERRED' AND d.id >"
                " COALESCE((SELECT max(s.id) FROM heartbeat_log s WHERE s.check_name = d.check_name"
                " AND s.decision = 'SENT'), 0)"
            ).fetchall()
            sections, ids, checks = [], [], []
            severity: str = Severity.INFO
            for (check,) in rows:
                alerts = store.notifiable(self.db, check, now)
                if not alerts:
                    continue
                title, body = self.grouped_body(check, alerts)
                sections.append(f"{title}\n{body}")
                ids += [a.id for a in alerts]
                checks.append((check, alerts))
                for a in alerts:
                    if severity_rank(a.severity) > severity_rank(severity):
                        severity = a.severity
            if not sections:
                return None
            log_ids = []
            for check, alerts in checks:
                log_ids.append(self._log(check, now, DecisionAction.SENT, "digest after quiet hours", len(alerts)))
                store.mark_notified(self.db, [a.id for a in alerts], now)
            notification_id = self._queue("digest", NotificationKind.DIGEST, severity,
                                          render(self.db, "digest.title", None, count=len(ids)),
                                          "\n\n".join(sections), ids, now, None)
            for log_id in log_ids:
                self.db.execute_sql("UPDATE heartbeat_log SET notification_id = ? WHERE id = ?",
                                    (notification_id, log_id))
        for wake in self.on_queued:
            wake()
        return notification_id

    def explain(self, check: str, cooldown: timedelta, now: datetime, tz: tzinfo) -> Explanation:
        """What the policy would decide for ``check`` now, in the policy's terms."""
        with self.db.atomic():
            sent = last_sent(self.db, check)
            anchor = clock_back_since(self.db, check, sent, now, cooldown, keep=False)
            unseen = unseen_since(self.db, anchor, now)
            alerts = store.notifiable(self.db, check, now)
            paused = runtime_state.paused_until(self.db, now)
        severity = highest_severity(a.severity for a in alerts)
        decision = decide(PolicyInput(check, cooldown, sent, now, severity, paused, self.quiet, anchor, unseen))
        if decision.action == DecisionAction.SENT:
            result = (f"SEND ({decision.reason})" if alerts
                      else f"nothing to notify (no open alerts; {decision.reason})")
        else:
            result = decision.text
        return Explanation(check, sent, cooldown, now, result, len(alerts), tz)


__all__ = ["Dispatcher", "DispatchResult", "Explanation", "last_sent"]
