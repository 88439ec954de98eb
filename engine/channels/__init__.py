"""Delivery channels: the transport layer under Watchkeeper's durable outbox.

Each channel turns an :class:`~engine.channels.base.OutgoingMessage` into one
delivery attempt and reports failure as :class:`~engine.channels.base.ChannelError`
(``permanent`` or transient with an optional ``retry_after``). Channels keep no
durable state: retrying, deduplication and persistence belong to the outbox.

Each channel lives in its own module or folder and exports a ``SPEC``
(:class:`~engine.channels.base.ChannelSpec`): ``toast`` (desktop notification via plyer),
``telegram/`` (Bot API via python-telegram-bot, two-way). ``base`` holds the shared types and
redaction. A channel is registered by one line in ``engine.units.CHANNELS``.
"""
