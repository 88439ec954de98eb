"""DeliveryService: the enabled channels, their workers, the outbox hook, channel status.

Used by the running engine (workers in threads, two-way channels listening for buttons and
commands) and by the CLI without an instance (``deliver_pending_once``: drain what is due,
bounded, then exit). Channels are known only through their :class:`ChannelSpec`; a caller that
passes no specs gets the built-in ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from engine.channels.base import BuildContext, Channel, ChannelSpec, ConversationContext, Converse, OutgoingMessage
from engine.config import Config
from engine.delivery import outbox
from engine.delivery.worker import ChannelWorker
from engine.store.db import connection
from engine.timeutil import parse_duration, utcnow
from engine.vocabulary import NotificationKind, Severity

log = logging.getLogger(__name__)

# Notifications whose alerts can be acknowledged or snoozed.
BUTTON_KINDS = (NotificationKind.ALERT, NotificationKind.DIGEST)


def enabled_channels(config: Config, specs: Sequence[ChannelSpec]) -> list[str]:
    """Names of the channels this configuration delivers to."""
    return [spec.name for spec in specs if spec.enabled(config)]


def channel_secrets(config: Config, specs: Sequence[ChannelSpec]) -> tuple[str, ...]:
    """Every channel's secrets (tokens) in this configuration: never logged, never shown."""
    return tuple(secret for spec in specs for secret in spec.secrets(config))


def outbox_hook(config: Config, now: Callable[[], datetime],
                specs: Sequence[ChannelSpec]) -> Callable[[SqliteDatabase, int, str], None]:
    """The dispatcher hook that queues one outbox row per enabled channel that receives the kind."""
    enabled = [spec for spec in specs if spec.enabled(config)]

    def hook(db: SqliteDatabase, notification_id: int, severity: str) -> None:
        kind = db.execute_sql("SELECT kind FROM notifications WHERE id = ?", (notification_id,)).fetchone()[0]
        outbox.enqueue(db, notification_id, [spec.name for spec in enabled if spec.receives(kind)], now())

    return hook


def unavailable_channels(config: Config, specs: Sequence[ChannelSpec]) -> dict[str, str]:
    """Enabled channels that cannot deliver on this machine now (their specs' probes), with why."""
    out: dict[str, str] = {}
    for spec in specs:
        if spec.enabled(config) and spec.probe is not None:
            ok, reason = spec.probe(config)
            if not ok:
                out[spec.name] = reason
    return out


def channel_states(db: SqliteDatabase, config: Config, specs: Sequence[ChannelSpec],
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """Every channel's state without a running instance (inside a connection): the enabled ones
    (unavailable where their probe says so), then the disabled ones."""
    enabled = enabled_channels(config, specs)
    return outbox.channel_status(db, enabled, now, unavailable=unavailable_channels(config, specs),
                                 disabled=[spec.name for spec in specs if spec.name not in enabled])


def build_channels(config: Config, specs: Sequence[ChannelSpec]) -> dict[str, Channel]:
    """The enabled channels, constructed (each spec imports its heavy libraries only here)."""
    context = BuildContext(max_retry_after=outbox.max_wait(float(config.delivery.max_backoff_seconds)))
    return {spec.name: spec.build(config, context) for spec in specs if spec.enabled(config)}


class DeliveryService:
    """Owns channels and workers for one process."""

    def __init__(self, db: SqliteDatabase, config: Config, specs: Sequence[ChannelSpec], *,
                 now: Callable[[], datetime] = utcnow, channels: dict[str, Channel] | None = None,
                 on_change: Callable[[], None] = lambda: None):
        self.db = db
        self.config = config
        self.now = now
        self.specs = {spec.name: spec for spec in specs}
        self.channels = channels if channels is not None else build_channels(config, list(self.specs.values()))
        self.secrets = channel_secrets(config, list(self.specs.values()))
        ttl = parse_duration(config.delivery.offline_ttl)
        self.workers = {
            name: ChannelWorker(db, channel, self.build_message, now=now,
                                max_backoff=float(config.delivery.max_backoff_seconds), offline_ttl=ttl,
                                secrets=self.secrets, on_change=on_change)
            for name, channel in self.channels.items()
        }

    def build_message(self, row: outbox.OutboxRow) -> OutgoingMessage:
        """The message of an outbox row: buttons and reply where the row's channel supports them."""
        buttons: list[tuple[str, str]] = []
        reply_to = None
        spec = self.specs.get(row.channel)
        if spec is not None and row.alert_ids:
            if spec.alert_buttons is not None and row.kind in BUTTON_KINDS:
                buttons = spec.alert_buttons(self.config, self.db, row.notification_id)
            if spec.supports_replies and row.kind == NotificationKind.RECOVERY:
                reply_to = outbox.message_id_for_alert(self.db, row.alert_ids[0], row.channel)
        severity = row.severity if row.severity in tuple(Severity) else Severity.WARNING
        return OutgoingMessage(title=row.title, body=row.body, severity=severity, buttons=buttons,
                               reply_to=reply_to, idempotency_key=row.idempotency_key)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, actions: Any = None, conversations: Mapping[str, Converse] | None = None) -> None:
        """Recover interrupted rows, start the workers, start the two-way channels' conversations.

        ``conversations`` binds a channel's chat handlers (by channel name, registered in
        engine.units); ``actions`` is what they act on (the engine itself). Without them two-way
        channels only send.
        """
        with connection(self.db):
            recovered = outbox.recover_interrupted(self.db)
        if recovered:
            log.warning("%d notifications were interrupted mid-send; they will be delivered again", recovered)
        for worker in self.workers.values():
            worker.start()
        if actions is None or not conversations:
            return
        for name, channel in self.channels.items():
            if name in conversations:
                conversations[name](channel, actions, self._conversation_context(name))

    def _conversation_context(self, channel: str) -> ConversationContext:
        def sent_message_id(notification_id: int) -> str | None:
            with connection(self.db):
                return outbox.sent_message_id(self.db, notification_id, channel)

        return ConversationContext(db=self.db, message_text=self._message_text, sent_message_id=sent_message_id)

    def _message_text(self, notification_id: int) -> tuple[str, str] | None:
        with connection(self.db):
            row = self.db.execute_sql("SELECT title, body FROM notifications WHERE id = ?",
                                      (notification_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def wake_all(self) -> None:
        for worker in self.workers.values():
            worker.wake()

    def status(self) -> list[dict[str, Any]]:
        """Every channel's state: the built ones (unavailable where the channel says it cannot
        deliver here: its own cached probe, never waited for; standby where another program answers its
        commands), then the disabled ones."""
        unavailable, standby = {}, {}
        for name, channel in self.channels.items():
            probe = getattr(channel, "available", None)
            if callable(probe):
                ok, reason = probe(wait=False)
                if not ok:
                    unavailable[name] = reason
            commands_elsewhere = getattr(channel, "standby", None)  # a two-way channel on a shared bot
            if callable(commands_elsewhere) and (why := commands_elsewhere()):
                standby[name] = why
        disabled = [name for name in self.specs if name not in self.channels]
        with connection(self.db):
            return outbox.channel_status(self.db, list(self.channels), self.now(), unavailable=unavailable,
                                         disabled=disabled, standby=standby)

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


def deliver_pending_once(db: SqliteDatabase, config: Config, specs: Sequence[ChannelSpec],
                         timeout: float = 30.0) -> int:
    """CLI without a running instance: deliver what is due, then close the channels."""
    service = DeliveryService(db, config, specs)
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


__all__ = ["DeliveryService", "build_channels", "channel_secrets", "channel_states", "deliver_pending_once",
           "enabled_channels", "notification_alerts", "outbox_hook", "timedelta", "unavailable_channels"]
