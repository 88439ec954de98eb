"""Connecting Watchkeeper to a Telegram bot, and sending a test message: the steps without the printing.

Setup verifies the token (``getMe``), waits for the person's ``/start`` to learn the chat id,
stores token and chat id in the config file and sends a confirmation. Each step is recorded in
``onboarding_state`` (keys ``telegram.*``), so an interrupted setup resumes where it stopped: a
chat id found once is not asked for again. Progress is reported through ``on_step`` as it
happens (the person must know to send ``/start`` while setup waits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import SqliteDatabase

from engine.channels.base import ChannelError, Delivery, OutgoingMessage
from engine.channels.telegram.settings import settings
from engine.config import Config, ConfigError, Section, set_config_values
from engine.timeutil import to_db, utcnow
from engine.vocabulary import Severity

if TYPE_CHECKING:
    from engine.channels.telegram.channel import TelegramChannel

ONE_BOT_PER_MACHINE = ("Tip: give each machine its own bot (@BotFather, /newbot): Telegram lets one program read a "
                      "bot's commands, so on a shared bot only one machine answers them.")
"""The advice `telegram setup` gives: a bot shared by two machines answers commands on one of them."""

CONFIRMATION = OutgoingMessage("Watchkeeper is connected", "Alerts will arrive here.", Severity.INFO)


@dataclass(frozen=True)
class TokenVerified:
    """Step 1 done: the token works; ``username`` is the bot's."""

    username: str | None


@dataclass(frozen=True)
class ChatKnown:
    """Step 2 skipped: the chat id came from the config or an earlier, interrupted setup."""

    chat_id: str


@dataclass(frozen=True)
class WaitingForStart:
    """Step 2 begins: send ``/start`` to the bot within ``wait`` seconds."""

    username: str | None
    wait: float


@dataclass(frozen=True)
class ChatFound:
    """Step 2 done: the ``/start`` came from this chat."""

    chat_id: str


SetupStep = TokenVerified | ChatKnown | WaitingForStart | ChatFound


@dataclass(frozen=True)
class SetupResult:
    """``completed`` False: no ``/start`` arrived in time (a rerun resumes at step 2)."""

    completed: bool
    chat_id: str | None = None


class SetupFailed(Exception):
    """A setup step failed. ``step`` is ``"connect"`` (token or chat discovery), ``"store"`` (the
    config file) or ``"confirm"`` (the confirmation message); ``permanent`` when retrying cannot
    help (a bad token). The message is the cause's, already redacted."""

    def __init__(self, step: str, cause: Exception, *, permanent: bool = False) -> None:
        super().__init__(str(cause))
        self.step = step
        self.permanent = permanent


def _record(db: SqliteDatabase, key: str, value: str) -> None:
    db.execute_sql(
        "INSERT INTO onboarding_state (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (f"telegram.{key}", value, to_db(utcnow())))


def _recorded(db: SqliteDatabase, key: str) -> str | None:
    row = db.execute_sql("SELECT value FROM onboarding_state WHERE key = ?", (f"telegram.{key}",)).fetchone()
    return row[0] if row else None


def _channel(config: Config, token: str, chat_id: str | None) -> TelegramChannel:
    from engine.channels.telegram.channel import TelegramChannel

    t = settings(config)
    return TelegramChannel(token, chat_id, base_url=t.api_url or None, timeout=t.timeout_seconds)


def run_setup(db: SqliteDatabase, config: Config, config_file: Path, token: str, *, store_token: bool,
              wait: float, on_step: Callable[[SetupStep], None], template: str | None = None,
              sections: Sequence[Section] = ()) -> SetupResult:
    """Verify ``token``, learn the chat id (unless known), store both, send the confirmation.

    ``store_token``: write the token into ``config_file`` (it was given on the command line,
    not read from the config or the environment). ``template`` and ``sections`` (the registered
    config sections, this one's included) are what a missing config file starts from and what the
    written file is validated with. Raises :class:`SetupFailed`.
    """
    chat_id = settings(config).chat_id or _recorded(db, "chat_id")
    channel = _channel(config, token, chat_id)
    try:
        me = channel.get_me()
        on_step(TokenVerified(me.username))
        _record(db, "token_verified", to_db(utcnow()))
        _record(db, "bot_username", me.username or "")
        if store_token:
            set_config_values(config_file, "telegram", {"token": token}, template=template,
                              sections=sections)
        if chat_id:
            on_step(ChatKnown(chat_id))
        else:
            on_step(WaitingForStart(me.username, wait))
            found = channel.discover_chat_id(wait)
            if found is None:
                return SetupResult(completed=False)
            chat_id = str(found)
            _record(db, "chat_id", chat_id)
            on_step(ChatFound(chat_id))
        set_config_values(config_file, "telegram", {"chat_id": str(chat_id), "enabled": True},
                          template=template, sections=sections)
    except ChannelError as exc:
        raise SetupFailed("connect", exc, permanent=exc.permanent) from exc
    except ConfigError as exc:
        raise SetupFailed("store", exc) from exc
    finally:
        channel.close()
    channel = _channel(config, token, chat_id)
    try:
        channel.notify(CONFIRMATION)
    except ChannelError as exc:
        raise SetupFailed("confirm", exc, permanent=exc.permanent) from exc
    finally:
        channel.close()
    _record(db, "completed", to_db(utcnow()))
    return SetupResult(completed=True, chat_id=chat_id)


def send_test(config: Config, title: str, body: str) -> Delivery:
    """Send a test message now, past the outbox (Telegram must be :func:`configured`). Raises ChannelError."""
    t = settings(config)
    channel = _channel(config, t.token, t.chat_id)
    try:
        return channel.notify(OutgoingMessage(title, body, Severity.INFO))
    finally:
        channel.close()
