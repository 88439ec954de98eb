"""Channel contract shared by every delivery channel.

A channel performs exactly one delivery attempt per :meth:`Channel.notify` call and
either returns a :class:`Delivery` or raises :class:`ChannelError`. Error messages
are always passed through :func:`redact`, so a bot token can never leak into logs,
the database or the UI through an exception.

A :class:`ChannelSpec` is how a channel joins Watchkeeper: its config section, when it is on,
how it is built, what its messages may hold and which notifications it receives. The delivery service knows channels
only through their specs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from engine.vocabulary import NotificationKind, Severity

if TYPE_CHECKING:
    from peewee import SqliteDatabase

    from engine.config import Config

__all__ = [
    "REDACTED",
    "UNAVAILABLE",
    "BuildContext",
    "Channel",
    "ChannelError",
    "ChannelLimits",
    "ChannelSpec",
    "ConversationContext",
    "Delivery",
    "OutgoingMessage",
    "MAX_RETRY_AFTER_SECONDS",
    "clamp_wait",
    "redact",
]

REDACTED = "[REDACTED]"
UNAVAILABLE = "Unavailable"
"""The ``ChannelError.kind`` of a channel that cannot deliver here (transient: the row waits)."""

# Telegram bot tokens look like "<bot id>:<35 url-safe chars>"; the colon may be
# percent-encoded when the token is part of a URL.
_TOKEN_RE = re.compile(r"\d+(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
_MIN_SECRET_LEN = 6
MAX_RETRY_AFTER_SECONDS = 3600.0
"""The longest wait a server's ``retry_after`` is believed for (unless the backoff cap is longer)."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return *text* with every secret and every token-looking string replaced.

    Secrets shorter than 6 characters are ignored (replacing them would mangle
    ordinary text); the raw and the percent-encoded forms are both replaced.
    """
    candidates: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            candidates.add(secret)
            candidates.add(secret.replace(":", "%3A"))
            candidates.add(secret.replace(":", "%3a"))
    for secret in sorted(candidates, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _TOKEN_RE.sub(REDACTED, text)


def clamp_wait(seconds: float | None, limit: float) -> float:
    """A wait in seconds made sane: NaN, negative or missing -> 0; above ``limit`` (or inf) -> ``limit``.

    The one place where a server's ``retry_after`` (and any computed next attempt) is bounded:
    a 429 asking for 10^11 s must not park a message for millennia.
    """
    if seconds is None or math.isnan(seconds) or seconds <= 0:
        return 0.0
    return float(min(seconds, limit))


class ChannelError(Exception):
    """A failed delivery attempt.

    Attributes:
        permanent: retrying the same message will not help (bad token, blocked bot,
            unknown chat, malformed message); the outbox should dead-letter it.
        retry_after: seconds the server asked us to wait before the next attempt
            (transient errors only), or ``None``.
        kind: short machine-readable cause, e.g. ``"RetryAfter"``, ``"Forbidden"``.
        message: the redacted human-readable message (also ``str(error)``).
        parts_sent: parts of a multi-part message delivered so far, counting the
            ``resume_from`` ones (a retry sends only the rest); 0 when unknown.
        first_message_id: the channel id of part 1 when this attempt delivered it.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        kind: str = "error",
        secrets: Iterable[str] = (),
        parts_sent: int = 0,
        first_message_id: str | None = None,
    ) -> None:
        clean = redact(str(message), secrets)
        super().__init__(clean)
        self.message = clean
        self.permanent = permanent
        self.retry_after = retry_after
        self.kind = kind
        self.parts_sent = parts_sent
        self.first_message_id = first_message_id

    def __reduce__(self) -> tuple[object, ...]:
        """Keep the error picklable despite keyword-only arguments."""
        return (_rebuild_error, (self.message, self.permanent, self.retry_after, self.kind, self.parts_sent,
                                 self.first_message_id))

    def __repr__(self) -> str:
        return (
            f"ChannelError({self.message!r}, permanent={self.permanent}, "
            f"retry_after={self.retry_after}, kind={self.kind!r})"
        )


def _rebuild_error(
    message: str, permanent: bool, retry_after: float | None, kind: str, parts_sent: int = 0,
    first_message_id: str | None = None,
) -> ChannelError:
    return ChannelError(message, permanent=permanent, retry_after=retry_after, kind=kind,
                        parts_sent=parts_sent, first_message_id=first_message_id)


@dataclass
class OutgoingMessage:
    """One notification as the engine wants it delivered, channel-agnostic.

    ``buttons`` are ``(label, callback_data)`` pairs (Telegram limits callback data
    to 64 bytes); ``reply_to`` is a channel message id returned by an earlier
    :class:`Delivery`; ``idempotency_key`` identifies the logical message across
    retries (the outbox uses it; channels may log it). ``resume_from`` is how many parts
    of a multi-part message an earlier attempt already delivered: a channel that splits
    messages sends only the rest (one-part channels such as toast ignore it).
    """

    title: str
    body: str
    severity: str = Severity.INFO
    buttons: list[tuple[str, str]] = field(default_factory=list)
    reply_to: str | None = None
    idempotency_key: str = ""
    resume_from: int = 0

    def __post_init__(self) -> None:
        if self.severity not in tuple(Severity):
            raise ValueError(f"severity must be one of {tuple(s.value for s in Severity)}, got {self.severity!r}")


@dataclass
class Delivery:
    """Result of a successful delivery: the channel's id for the message (its last part), if any,
    how many parts the message has, and the id of its first part when this attempt sent it."""

    channel_message_id: str | None = None
    parts_sent: int = 1
    first_message_id: str | None = None


@runtime_checkable
class Channel(Protocol):
    """What the outbox dispatcher needs from a channel."""

    name: str

    def notify(self, msg: OutgoingMessage) -> Delivery:
        """Deliver *msg* once; raise :class:`ChannelError` on failure."""
        ...

    def close(self) -> None:
        """Release threads and connections; must return in bounded time."""
        ...


@dataclass(frozen=True)
class ChannelLimits:
    """What one message may hold on a channel (declared once, used by the channel itself).

    ``title_max`` and ``body_max`` count the channel's own units (UTF-16 code units for both
    built-in channels), ``body_max`` per part; ``parts`` is how many parts a long message may be
    split into (None: as many as it needs); ``min_interval`` is the channel's rate, the seconds
    between two messages.
    """

    title_max: int | None = None
    body_max: int | None = None
    parts: int | None = 1
    min_interval: float = 0.0


@dataclass(frozen=True)
class BuildContext:
    """What the delivery service tells a channel it builds: the longest server wait it believes."""

    max_retry_after: float = MAX_RETRY_AFTER_SECONDS


@dataclass(frozen=True)
class ConversationContext:
    """What the delivery service lends a two-way channel's conversation.

    ``message_text(notification_id)`` is the (title, body) of a notification, ``sent_message_id
    (notification_id)`` the id this channel delivered it as here (None when it did not); both open
    their own connection. ``db`` is for the channel's own small state (call inside a connection).
    """

    db: SqliteDatabase
    message_text: Callable[[int], tuple[str, str] | None]
    sent_message_id: Callable[[int], str | None]


AlertButtons = Callable[["Config", "SqliteDatabase", int], list[tuple[str, str]]]
"""(config, db inside a connection, notification id) -> the (label, callback data) buttons of an alert message."""
Converse = Callable[[Channel, Any, ConversationContext], None]
"""(the built channel, the engine's actions, context): bind the chat handlers and start listening."""


def _no_secrets(config: Config) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class ChannelSpec:
    """One delivery channel as the delivery service sees it.

    Attributes:
        name: the channel's name in the outbox, the status and the API (stored: never rename).
        title: the name shown to people ("Telegram").
        enabled: whether a configuration delivers to this channel.
        build: constructs the channel (imports heavy libraries only here).
        limits: what one message may hold.
        skipped_kinds: notification kinds this channel is not sent (e.g. the weekly digest).
        alert_buttons: the buttons of alert and digest messages; None: the channel has none.
        supports_replies: a recovery message answers the alert's earlier message on this channel.
        secrets: values never to be logged or shown (tokens).
        setup_command, test_command: what a person runs to connect and to test it (doctor hints).
        settings: the dataclass of ``engine.config.opt`` fields that is its ``[name]`` config section
            (read as ``config.section(settings)``); None: the channel has no settings.
        env: more environment variable names -> field of ``settings`` they override when set (non-empty);
            every field already has ``WATCHKEEPER_<NAME>_<KEY>`` (engine.config.env_variable).
        probe: whether the channel can deliver on this machine, as (available, reason): cheap and
            bounded (a CLI without a running instance asks it); None: it always can.
        reach: where it reaches the person, for presence-aware routing: "desk" (only at this
            machine, like a toast) or "away" (anywhere, like a phone); an unknown channel is "away",
            so it is never silenced as desk-only.
    """

    name: str
    title: str
    enabled: Callable[[Config], bool]
    build: Callable[[Config, BuildContext], Channel]
    limits: ChannelLimits = ChannelLimits()
    skipped_kinds: frozenset[NotificationKind] = frozenset()
    alert_buttons: AlertButtons | None = None
    supports_replies: bool = False
    secrets: Callable[[Config], tuple[str, ...]] = _no_secrets
    setup_command: str | None = None
    test_command: str | None = None
    settings: type | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    probe: Callable[[Config], tuple[bool, str]] | None = None
    reach: str = "away"

    @property
    def supports_buttons(self) -> bool:
        """Alert messages on this channel carry buttons (ack, snooze)."""
        return self.alert_buttons is not None

    def receives(self, kind: str) -> bool:
        """Whether notifications of ``kind`` are sent to this channel."""
        return kind not in self.skipped_kinds
