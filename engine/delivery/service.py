"""DeliveryService: the enabled channels, their workers, the outbox hook, channel status.

Used by the running engine (workers in threads, Telegram polling for buttons and commands) and
by the CLI without an instance (``deliver_pending_once``: drain what is due, bounded, then exit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from engine.alerts import outbox
from engine.assets import asset_path
from engine.channels.base import Channel, OutgoingMessage
from engine.config import Config
from engine.delivery import identity
from engine.delivery.telegram_bot import EngineActions, TelegramConversation, alert_buttons
from engine.delivery.worker import ChannelWorker
from engine.platform import IS_WINDOWS
from engine.store.db import connection
from engine.timeutil import parse_duration, utcnow

log = logging.getLogger(__name__)


def telegram_configured(config: Config) -> bool:
    """Telegram is on when enabled and both token and chat id are set."""
    t = config.telegram
    return bool(t.enabled and t.token and t.chat_id)


def enabled_channels(config: Config) -> list[str]:
    """Names of the channels this configuration delivers to."""
    names = ["toast"] if config.toast.enabled else []
    return names + (["telegram"] if telegram_configured(config) else [])


def outbox_hook(config: Config, now: Callable[[], datetime]) -> Callable[[SqliteDatabase, int, str], None]:
    """The dispatcher hook that queues one outbox row per enabled channel (weekly: Telegram only)."""
    names = enabled_channels(config)

    def hook(db: SqliteDatabase, notification_id: int, severity: str) -> None:
        kind = db.execute_sql("SELECT kind FROM notifications WHERE id = ?", (notification_id,)).fetchone()[0]
        outbox.enqueue(db, notification_id, [n for n in names if kind != "weekly" or n == "telegram"], now())

    return hook


class _LateConversation:
    """Telegram handlers bound before the conversation exists (the channel is built first)."""

    def __init__(self) -> None:
        self.target: TelegramConversation | None = None

    def on_callback(self, data: str, message_id: str, callback_id: str) -> str | None:
        return self.target.on_callback(data, message_id, callback_id) if self.target else "Not ready yet."

    def on_command(self, command: str, args: list[str]) -> str:
        return self.target.on_command(command, args) if self.target else "Not ready yet."


def build_channels(config: Config, handlers: _LateConversation | None = None) -> dict[str, Channel]:
    """The enabled channels, constructed (Telegram lazily imports python-telegram-bot)."""
    channels: dict[str, Channel] = {}
    if config.toast.enabled:
        from engine.channels.toast import ToastChannel

        icon = asset_path("watchkeeper.ico" if IS_WINDOWS else "watchkeeper-ok.png")
        channels["toast"] = ToastChannel(str(icon) if icon.exists() else None)
    if telegram_configured(config):
        from engine.channels.telegram import TelegramChannel

        t = config.telegram
        channels["telegram"] = TelegramChannel(
            t.token, t.chat_id, base_url=t.api_url or None, timeout=t.timeout_seconds,
            max_retry_after=outbox.max_wait(float(config.delivery.max_backoff_seconds)),
            on_callback=handlers.on_callback if handlers else None,
            on_command=handlers.on_command if handlers else None)
    return channels


class DeliveryService:
    """Owns channels and workers for one process."""

    def __init__(self, db: SqliteDatabase, config: Config, *, now: Callable[[], datetime] = utcnow,
                 channels: dict[str, Channel] | None = None, on_change: Callable[[], None] = lambda: None):
        self.db = db
        self.config = config
        self.now = now
        self._handlers = _LateConversation()
        self.channels = channels if channels is not None else build_channels(config, self._handlers)
        self.secrets = tuple(s for s in (config.telegram.token,) if s)
        self._instance_id: str | None = None
        ttl = parse_duration(config.delivery.offline_ttl)
        self.workers = {
            name: ChannelWorker(db, channel, self.build_message, now=now,
                                max_backoff=float(config.delivery.max_backoff_seconds), offline_ttl=ttl,
                                secrets=self.secrets, on_change=on_change)
            for name, channel in self.channels.items()
        }

    def instance_id(self) -> str:
        """This data folder's instance id (created on first use; call inside a connection)."""
        if self._instance_id is None:
            self._instance_id = identity.instance_id(self.db)
        return self._instance_id

    def build_message(self, row: outbox.OutboxRow) -> OutgoingMessage:
        """The channel-neutral message of an outbox row (buttons and reply for Telegram)."""
        buttons: list[tuple[str, str]] = []
        reply_to = None
        if row.channel == "telegram":
            if row.kind in ("alert", "digest") and row.alert_ids:
                buttons = alert_buttons(row.notification_id, self.instance_id(), identity.machine_name())
            if row.kind == "recovery" and row.alert_ids:
                reply_to = outbox.message_id_for_alert(self.db, row.alert_ids[0], "telegram")
        severity = row.severity if row.severity in ("info", "warning", "critical") else "warning"
        return OutgoingMessage(title=row.title, body=row.body, severity=severity, buttons=buttons,
                               reply_to=reply_to, idempotency_key=row.idempotency_key)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, actions: EngineActions | None = None) -> None:
        """Recover interrupted rows, start the workers, start Telegram polling."""
        with connection(self.db):
            recovered = outbox.recover_interrupted(self.db)
            instance = self.instance_id()
        if recovered:
            log.warning("%d notifications were interrupted mid-send; they will be delivered again", recovered)
        for worker in self.workers.values():
            worker.start()
        telegram: Any = self.channels.get("telegram")
        if telegram is not None and actions is not None:
            self._handlers.target = TelegramConversation(actions, edit=telegram.edit,
                                                         message_text=self._message_text, instance_id=instance,
                                                         sent_message_id=self._sent_message_id)
            telegram.start_polling()

    def _message_text(self, notification_id: int) -> tuple[str, str] | None:
        with connection(self.db):
            row = self.db.execute_sql("SELECT title, body FROM notifications WHERE id = ?",
                                      (notification_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def _sent_message_id(self, notification_id: int) -> str | None:
        with connection(self.db):
            return outbox.sent_message_id(self.db, notification_id, "telegram")

    def wake_all(self) -> None:
        for worker in self.workers.values():
            worker.wake()

    def status(self) -> list[dict[str, Any]]:
        with connection(self.db):
            return outbox.channel_status(self.db, list(self.channels), self.now())

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        for channel in self.channels.values():
            try:
                channel.close()
            except Exception:
                log.exception("closing channel %s failed", channel.name)

    def drain_once(self, timeout: float = 30.0) -> int:
        """Deliver everything due now in the calling thread (bounded); returns rows attempted."""
        deadline = time.monotonic() + timeout
        attempted = 0
        with connection(self.db):
            outbox.recover_interrupted(self.db)
            for worker in self.workers.values():
                attempted += worker.drain(deadline)
        return attempted


def deliver_pending_once(db: SqliteDatabase, config: Config, timeout: float = 30.0) -> int:
    """CLI without a running instance: deliver what is due, then close the channels."""
    service = DeliveryService(db, config)
    try:
        return service.drain_once(timeout)
    finally:
        service.close()


def notification_alerts(db: SqliteDatabase, notification_id: int) -> list[int]:
    """Alert ids of a notification."""
    import json

    with connection(db):
        row = db.execute_sql("SELECT alert_ids FROM notifications WHERE id = ?", (notification_id,)).fetchone()
    return [int(x) for x in json.loads(row[0])] if row else []


__all__ = ["DeliveryService", "build_channels", "deliver_pending_once", "notification_alerts",
           "telegram_configured", "timedelta"]
