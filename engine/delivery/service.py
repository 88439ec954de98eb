"""DeliveryService: the enabled channels, their workers, the outbox hook, channel status.

Used by the running engine (workers in threads, two-way channels listening for buttons and
commands) and by the CLI without an instance (``deliver_pending_once``: drain what is due,
bounded, then exit). Channels are known only through their :class:`ChannelSpec`; a caller that
passes no specs gets the built-in ones.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from engine.channels.base import BuildContext, Channel, ChannelSpec, ConversationContext, Converse, OutgoingMessage
from engine.config import Config
from engine.delivery import outbox, routing
from engine.delivery.worker import ChannelWorker
from engine.presence import Presence, PresenceState
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


PresenceSource = Callable[[], PresenceState]
"""Where the person is now (engine.presence.PresenceTracker.current)."""

_NO_PRESENCE = PresenceState(Presence.UNKNOWN, "no presence source")


def _placement(action: routing.Action, text: str) -> outbox.Placement:
    if action == routing.Action.SEND:
        return outbox.Placement(route=text)
    if action == routing.Action.SKIP:
        return outbox.Placement(outbox.OutboxState.SKIPPED, route=text)
    return outbox.Placement(outbox.OutboxState.HELD, str(action), text)


def outbox_hook(config: Config, now: Callable[[], datetime], specs: Sequence[ChannelSpec],
                presence: PresenceSource | None = None) -> Callable[[SqliteDatabase, int, str], None]:
    """The dispatcher hook that queues one outbox row per enabled channel that receives the kind,
    each placed (now, held or skipped) by ``[delivery] routing`` and the person's presence."""
    enabled = [spec for spec in specs if spec.enabled(config)]
    mode = config.delivery.routing
    escalate_after = parse_duration(config.delivery.escalate_after).total_seconds()

    def hook(db: SqliteDatabase, notification_id: int, severity: str) -> None:
        kind, alert_json = db.execute_sql("SELECT kind, alert_ids FROM notifications WHERE id = ?",
                                          (notification_id,)).fetchone()
        alert_ids = [int(x) for x in json.loads(alert_json or "[]")]
        targets = [spec for spec in enabled if spec.receives(kind)]
        now_presence = _NO_PRESENCE
        notified: set[str] = set()
        if mode == routing.PRESENCE and alert_ids:
            now_presence = presence() if presence is not None else _NO_PRESENCE
            if kind == NotificationKind.RECOVERY:
                notified = outbox.channels_notified(db, alert_ids)
        plan = routing.route(mode, now_presence, severity, kind, bool(alert_ids),
                             [routing.ChannelReach(spec.name, spec.reach) for spec in targets], escalate_after,
                             notified)
        placements = {name: _placement(action, plan.texts[name]) for name, action in plan.actions.items()}
        outbox.enqueue(db, notification_id, [spec.name for spec in targets], now(), placements)

    return hook


class HoldReleaser:
    """Looks at held rows every ``period`` seconds while there are any (none held: it sleeps until
    woken), releasing or skipping them by :func:`routing.release`; wakes the workers when it released."""

    def __init__(self, db: SqliteDatabase, config: Config, presence: PresenceSource | None, *,
                 now: Callable[[], datetime], on_release: Callable[[], None], period: float = 2.0):
        self.db = db
        self.mode = config.delivery.routing
        self.escalate_after = parse_duration(config.delivery.escalate_after).total_seconds()
        self.presence = presence
        self.now = now
        self.on_release = on_release
        self.period = period
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="deliver-release", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def release_once(self) -> tuple[int, int]:
        """One look at every held row (inside a connection); returns (released, skipped)."""
        if not outbox.has_held(self.db):
            return 0, 0
        now = self.now()
        presence = self.presence() if self.presence is not None else _NO_PRESENCE
        released = skipped = 0
        with self.db.atomic("IMMEDIATE"):
            for row in outbox.held_rows(self.db):
                held = max(0.0, (now - row.created_at).total_seconds())
                verdict, text = routing.release(self.mode, row.hold, presence, held, self.escalate_after,
                                                row.still_open)
                if verdict == routing.Release.SEND and text:
                    released += outbox.release_held(self.db, row.id, now, text)
                elif verdict == routing.Release.SKIP and text:
                    skipped += outbox.skip_held(self.db, row.id, text)
        return released, skipped

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.clear()
            wait: float | None = self.period
            try:
                with connection(self.db):
                    released, skipped = self.release_once()
                    if not outbox.has_held(self.db):
                        wait = None  # nothing held: no wake-ups until a new notification
                if released or skipped:
                    log.info("routing: %d held messages released, %d skipped", released, skipped)
                    self.on_release()
            except Exception:
                log.exception("routing: looking at held messages failed; retrying")
            self._wake.wait(wait)


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
                 on_change: Callable[[], None] = lambda: None, presence: PresenceSource | None = None,
                 release_period: float = 2.0):
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
        self._on_change = on_change
        self.releaser = HoldReleaser(db, config, presence, now=now, period=release_period,
                                     on_release=self._released)

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
        self.releaser.start()
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
        """A notification was queued: the workers deliver it, the releaser looks at held rows."""
        self._wake_workers()
        self.releaser.wake()

    def _released(self) -> None:
        self._wake_workers()
        self._on_change()

    def _wake_workers(self) -> None:
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
        self.releaser.close()
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
    with connection(db):
        row = db.execute_sql("SELECT alert_ids FROM notifications WHERE id = ?", (notification_id,)).fetchone()
    return [int(x) for x in json.loads(row[0])] if row else []


__all__ = ["DeliveryService", "HoldReleaser", "PresenceSource",
           "build_channels", "channel_secrets", "channel_states", "deliver_pending_once",
           "enabled_channels", "notification_alerts", "outbox_hook", "timedelta", "unavailable_channels"]
