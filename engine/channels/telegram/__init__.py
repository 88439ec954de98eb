"""Telegram, in one place: the two-way Bot API channel and everything that knows about it.

Modules: ``channel`` (TelegramChannel: python-telegram-bot on one event-loop thread), ``format``
(pure HTML formatting, splitting, keyboards, error classification), ``buttons`` (the alert
buttons' callback data), ``identity`` (which instance sent a message when machines share a
bot token), ``settings`` (the [telegram] config section and its environment overrides),
``setup`` (`telegram setup` and `telegram test` without the printing). What the
buttons and chat commands do is a front end above the actions: engine.chat.telegram.

:data:`SPEC` is how the delivery service knows this channel. Importing this package is cheap:
python-telegram-bot is imported only when a channel is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.channels.base import BuildContext, Channel, ChannelLimits, ChannelSpec
from engine.channels.telegram import identity
from engine.channels.telegram.buttons import alert_buttons
from engine.channels.telegram.format import MAX_TEXT, MAX_TITLE
from engine.channels.telegram.settings import ENV, TelegramSettings, settings
from engine.machine import machine_name

if TYPE_CHECKING:
    from peewee import SqliteDatabase

    from engine.config import Config

__all__ = ["MIN_INTERVAL_SECONDS", "SPEC", "configured"]

MIN_INTERVAL_SECONDS = 1.0
"""Telegram allows about one message per second per chat."""


def configured(config: Config) -> bool:
    """Telegram is on when enabled and both token and chat id are set."""
    t = settings(config)
    return bool(t.enabled and t.token and t.chat_id)


def _build(config: Config, context: BuildContext) -> Channel:
    from engine.channels.telegram.channel import TelegramChannel

    t = settings(config)
    return TelegramChannel(t.token, t.chat_id, base_url=t.api_url or None, timeout=t.timeout_seconds,
                           min_interval=MIN_INTERVAL_SECONDS, max_retry_after=context.max_retry_after,
                           machine=machine_name(config.general.machine_name), name_machine=t.name_machine)


def _alert_buttons(config: Config, db: SqliteDatabase, notification_id: int) -> list[tuple[str, str]]:
    return alert_buttons(notification_id, identity.instance_id(db), machine_name(config.general.machine_name))


def _secrets(config: Config) -> tuple[str, ...]:
    return tuple(s for s in (settings(config).token,) if s)


SPEC = ChannelSpec(
    name="telegram",
    title="Telegram",
    enabled=configured,
    build=_build,
    limits=ChannelLimits(title_max=MAX_TITLE, body_max=MAX_TEXT, parts=None, min_interval=MIN_INTERVAL_SECONDS),
    alert_buttons=_alert_buttons,
    supports_replies=True,
    secrets=_secrets,
    setup_command="watchkeeper telegram setup",
    test_command="watchkeeper telegram test",
    settings=TelegramSettings,
    env=ENV,
    reach="away",
)
"""Telegram: HTML messages split into parts, Ack/Snooze buttons, recoveries as replies, chat commands."""
