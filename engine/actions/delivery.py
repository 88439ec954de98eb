"""Delivery actions: the channels' state, a test message through one channel, and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions.errors import ChannelFailed, NotFound
from engine.actions.paging import Page, select_page
from engine.actions.target import Instance, Target, connected
from engine.snapshot import ChannelState


@dataclass(frozen=True)
class TestSent:
    """A test message went out through ``channel`` (``message_id``: the channel's id for it)."""

    channel: str
    message_id: str | None
    sent: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "sent": self.sent, "message_id": self.message_id}


def channels(target: Target) -> tuple[ChannelState, ...]:
    """Per channel: state (ok | unavailable | broken | disabled | rate-limited), pending and failed
    counts, last error (from the outbox and the channels' probes when no instance runs)."""
    if target.delivery is not None:
        return tuple(ChannelState.from_dict(c) for c in target.delivery.status())
    if target.db is None:
        return ()
    from engine.delivery.service import channel_states

    with connected(target) as db:
        rows = channel_states(db, target.config, target.units.channels)
    return tuple(ChannelState.from_dict(c) for c in rows)


def can_deliver(states: tuple[ChannelState, ...] | list[ChannelState]) -> bool:
    """Whether any channel delivers (ok, or rate-limited and waiting)."""
    from engine.delivery.outbox import DELIVERING

    return any(c.state in DELIVERING for c in states)


@dataclass(frozen=True)
class Route:
    """Where one notification went: a channel and what became of it there
    (sent, queued, unavailable, broken, rate-limited, failed, collapsed, held, skipped), and the
    routing decision recorded with it (``route``: None for rows queued before routing existed)."""

    channel: str
    state: str
    route: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "state": self.state, "route": self.route}


def notification_routes(target: Target, notification_ids: list[int]) -> dict[int, tuple[Route, ...]]:
    """Per notification: each channel it was queued for and its fate there now. A row still waiting
    says why when its channel cannot deliver (unavailable, broken, rate-limited), else queued."""
    from engine.delivery.outbox import ChannelHealth, OutboxState, routes

    states = {c.name: c.state for c in channels(target)}
    out: dict[int, tuple[Route, ...]] = {}
    with connected(target) as db:
        for nid in notification_ids:
            found = []
            for channel, row_state, decision in routes(db, nid):
                state = row_state
                if row_state in (OutboxState.PENDING, OutboxState.SENDING):
                    channel_state = states.get(channel, ChannelHealth.OK)
                    waiting = channel_state in (ChannelHealth.OK, ChannelHealth.STANDBY)  # standby still sends
                    state = "queued" if waiting else str(channel_state)
                found.append(Route(channel, str(state), decision))
            out[nid] = tuple(found)
    return out


def mark_channel_working(target: Target, channel: str) -> None:
    """A test or setup just delivered through ``channel``: a broken state is cleared and its
    pending messages are due now (a running instance is woken to send them)."""
    from engine.delivery.outbox import mark_working

    if target.db is None:
        return
    with connected(target) as db:
        mark_working(db, channel, target.now())
    if target.delivery is not None:
        target.delivery.wake_all()
    target.publish()


def send_test_message(instance: Instance, channel: str) -> TestSent:
    """Send the test message through one enabled channel now (not through the outbox).

    NotFound naming the enabled channels; ChannelFailed (secrets redacted) when it could not deliver."""
    from engine.alerts.templates import render
    from engine.channels.base import ChannelError, OutgoingMessage

    delivery = instance.delivery
    target = delivery.channels.get(channel) if delivery is not None else None
    if delivery is None or target is None:
        known = ", ".join(delivery.channels) if delivery is not None and delivery.channels else "none"
        raise NotFound(f"no enabled channel named {channel!r}; enabled: {known}")
    with connected(instance) as db:
        message = OutgoingMessage(render(db, "test.title"), render(db, "test.body"), "info")
    try:
        sent = target.notify(message)
    except ChannelError as exc:
        text = str(exc)
        for secret in delivery.secrets:
            text = text.replace(secret, "<redacted>")
        raise ChannelFailed(f"{channel}: {text}") from exc
    mark_channel_working(instance, channel)
    return TestSent(channel, sent.channel_message_id)


def outbox(target: Target, *, channel: str | None = None, state: str | None = None,
           limit: int = 100, offset: int = 0) -> Page:
    """Outbox rows (one per notification and channel), newest first."""
    where: list[str] = []
    params: list[Any] = []
    if channel:
        where.append("o.channel = ?")
        params.append(channel)
    if state:
        where.append("o.state = ?")
        params.append(state)
    cols = ("o.id", "o.notification_id", "o.channel", "o.state", "o.attempts", "o.created_at", "o.next_attempt_at",
            "o.sent_at", "o.last_error", "n.kind", "n.severity", "n.title", "o.route")
    with connected(target) as db:
        return select_page(db, cols, "outbox o LEFT JOIN notifications n ON n.id = o.notification_id", where,
                           params, "o.id DESC", limit, offset)
