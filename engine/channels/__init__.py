"""Delivery channels: the transport layer under Watchkeeper's durable outbox.

Each channel turns an :class:`~engine.channels.base.OutgoingMessage` into one
delivery attempt and reports failure as :class:`~engine.channels.base.ChannelError`
(``permanent`` or transient with an optional ``retry_after``). Channels keep no
durable state: retrying, deduplication and persistence belong to the outbox.

Modules: ``base`` (types, redaction), ``toast`` (desktop notification via plyer),
``telegram`` (Bot API via python-telegram-bot, two-way).
"""
