"""One worker thread per channel delivers its due outbox rows.

It waits on an Event until the next row is due (or it is woken by a new notification, the
start-up drain, or a sleep gap): no polling when idle. Transient failures back off exponentially
(capped) and honour the server's retry_after up to ``outbox.max_wait`` (the channel is reported
rate-limited meanwhile); a permanent failure fails the row and marks the channel broken. A long
message that failed halfway resumes after its last delivered part. A next attempt further ahead
than max_wait (the clock was set back) is due now. Pending rows older than the offline TTL are
collapsed into one message; a row created "in the future" is never old.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from peewee import SqliteDatabase

from engine.alerts.templates import render
from engine.channels.base import Channel, ChannelError, OutgoingMessage, clamp_wait, redact
from engine.delivery import outbox
from engine.delivery.outbox import OutboxState
from engine.store.db import connection, is_disk_full
from engine.store.diskwatch import DISK
from engine.timeutil import to_db
from engine.vocabulary import NotificationKind, Severity

log = logging.getLogger(__name__)

MessageBuilder = Callable[[outbox.OutboxRow], OutgoingMessage]


class ChannelWorker:
    """Delivers one channel's outbox rows in a daemon thread."""

    def __init__(self, db: SqliteDatabase, channel: Channel, build: MessageBuilder, *,
                 now: Callable[[], datetime], max_backoff: float, offline_ttl: timedelta,
                 secrets: tuple[str, ...] = (), on_change: Callable[[], None] = lambda: None):
        self.db = db
        self.channel = channel
        self.name = channel.name
        self._build = build
        self._now = now
        self._max_backoff = max_backoff
        self._max_wait = outbox.max_wait(max_backoff)
        self._ttl = offline_ttl
        self._secrets = secrets
        self._on_change = on_change
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"deliver-{self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now."""
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the current attempt (bounded)."""
        self._closed.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.clear()
            wait: float | None = None
            try:
                with connection(self.db):
                    self.drain()
                    nxt = outbox.next_due_at(self.db, self.name)
                if nxt is not None:
                    wait = clamp_wait(max(0.05, (nxt - self._now()).total_seconds()), self._max_wait)
            except Exception as exc:
                if is_disk_full(exc):  # one warning per state change, not a traceback every 5 s
                    DISK.failed(exc, self.db.database)
                else:
                    log.exception("delivery worker %s failed; retrying", self.name)
                wait = 5.0
            self._wake.wait(wait)

    def drain(self, deadline: float | None = None) -> int:
        """Deliver every due row once (collapsing stale ones first); returns rows attempted."""
        import time

        self.collapse_stale()
        attempted = 0
        while not self._closed.is_set():
            rows = outbox.due(self.db, self.name, self._now(), max_wait=self._max_wait)
            if not rows:
                break
            for row in rows:
                if self._closed.is_set() or (deadline is not None and time.monotonic() > deadline):
                    return attempted
                self.deliver(row)
                attempted += 1
        return attempted

    def deliver(self, row: outbox.OutboxRow) -> bool:
        """One attempt for one row; True when it was sent."""
        with self.db.atomic("IMMEDIATE"):
            if not outbox.claim(self.db, row.id):
                return False
        try:
            message = dataclasses.replace(self._build(row), resume_from=row.parts_sent)
            delivery = self.channel.notify(message)
        except ChannelError as exc:
            self._failed(row, exc)
            return False
        except Exception as exc:  # a bug in a channel must not lose the row
            self._failed(row, ChannelError(f"{type(exc).__name__}: {exc}", permanent=False,
                                           secrets=self._secrets))
            return False
        now = self._now()
        outbox.mark_sent(self.db, row.id, now, delivery.channel_message_id, delivery.parts_sent,
                         delivery.first_message_id)
        outbox.set_channel_state(self.db, self.name, True, now)
        log.info("delivered notification %d via %s", row.notification_id, self.name)
        self._on_change()
        return True

    def _failed(self, row: outbox.OutboxRow, exc: ChannelError) -> None:
        now = self._now()
        error = redact(str(exc), self._secrets)
        nxt = None if exc.permanent else outbox.next_attempt_after(row.attempts + 1, now, self._max_backoff,
                                                                   exc.retry_after)
        limited = (now + timedelta(seconds=clamp_wait(exc.retry_after, self._max_wait))
                   if exc.retry_after is not None and not exc.permanent else None)
        outbox.mark_failed_attempt(self.db, row.id, now, error, exc.permanent, nxt, exc.parts_sent,
                                   exc.first_message_id)
        outbox.set_channel_state(self.db, self.name, False, now, error, broken=exc.permanent,
                                 rate_limited_until=limited)
        if exc.permanent:
            log.error("%s: notification %d failed permanently: %s", self.name, row.notification_id, error)
        else:
            log.warning("%s: notification %d not delivered (%s); next try %s", self.name, row.notification_id,
                        error, to_db(nxt) if nxt else "-")
        self._on_change()

    def collapse_stale(self) -> int | None:
        """Fold pending rows older than the TTL into one 'while you were offline' message."""
        now = self._now()
        stale = outbox.stale_pending(self.db, self.name, now - self._ttl)
        if len(stale) < 2:
            return None
        with self.db.atomic("IMMEDIATE"):
            lines = [f"• {r.title} ({to_db(r.created_at)[:16].replace('T', ' ')} UTC)" for r in stale[:50]]
            if len(stale) > 50:
                lines.append(f"… and {len(stale) - 50} more")
            critical = any(r.severity == Severity.CRITICAL for r in stale)
            severity = Severity.CRITICAL if critical else Severity.WARNING
            cursor = self.db.execute_sql(
                "INSERT INTO notifications (check_name, kind, severity, title, body, alert_ids, created_at)"
                " VALUES ('offline', ?, ?, ?, ?, '[]', ?)",
                (NotificationKind.OFFLINE, severity, render(self.db, "offline.title", None, count=len(stale)),
                 "\n".join(lines), to_db(now)))
            nid = int(cursor.lastrowid)
            ids = [r.id for r in stale]
            self.db.execute_sql(
                f"UPDATE outbox SET state = ?, last_error = 'collapsed into notification {nid}'"
                f" WHERE state = ? AND id IN ({','.join('?' * len(ids))})",
                (OutboxState.COLLAPSED, OutboxState.PENDING, *ids))
            outbox.enqueue(self.db, nid, [self.name], now)
        log.info("%s: collapsed %d stale messages into one", self.name, len(stale))
        return nid
