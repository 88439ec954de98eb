"""Delivery channels: the transport layer under Watchkeeper's durable outbox.

Each channel turns an :class:`~engine.channels.base.OutgoingMessage` into one
delivery attempt and reports failure as :class:`~engine.channels.base.ChannelError`
(``permanent`` or transient with an optional ``retry_after``). Channels keep no
durable state: retrying, deduplication and persistence belong to the outbox.

Each channel lives in its own module or folder and exports a ``SPEC``
(:class:`~engine.channels.base.ChannelSpec`): ``toast`` (desktop notification via plyer),
``telegram/`` (Bot API via python-telegram-bot, two-way). ``base`` holds the shared types and
redaction.
"""

from __future__ import annotations

from engine.channels.base import ChannelSpec


def builtin_specs() -> list[ChannelSpec]:
    """The channels Watchkeeper ships, in delivery order: one line per channel."""
    from engine.channels import telegram, toast

    return [toast.SPEC, telegram.SPEC]
