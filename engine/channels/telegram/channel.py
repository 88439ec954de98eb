"""Telegram channel: python-telegram-bot 22 on one private event-loop thread.

PTB is asyncio-only and its pooled HTTP connections belong to the loop that
opened them, so each :class:`TelegramChannel` owns one loop
thread and one ``telegram.Bot`` for its whole life. Public methods are plain
blocking calls usable from any thread except that loop thread; they submit
coroutines with ``asyncio.run_coroutine_threadsafe`` and wait with a bound.

Behaviour:

* sends are serialized and paced to ``min_interval`` per chat (Telegram allows
  about one message per second per chat); a 429 blocks further sends until its
  ``retry_after`` (clamped to ``max_retry_after``) has passed, failing fast meanwhile;
* a long message is sent in parts; a failure reports how many parts went out
  (``ChannelError.parts_sent``) and a retry with ``resume_from`` sends only the rest;
* every failure becomes a :class:`~engine.channels.base.ChannelError` via
  :func:`classify`; the token never appears in errors or (through a redacting
  filter on the ``telegram``/``httpx``/``httpcore`` loggers) in logs;
* :meth:`TelegramChannel.start_polling` long-polls ``getUpdates`` on the same
  loop and hands callback queries and ``/commands`` from the configured chat to
  the engine's handlers in a worker thread; when another program polls the same token
  (409 Conflict) it goes to standby: it keeps sending and probes every few minutes
  (:meth:`TelegramChannel.standby` says why).

``telegram`` is imported lazily (≈150 ms, 15 MB): importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from engine.channels.base import (
    MAX_RETRY_AFTER_SECONDS,
    ChannelError,
    Delivery,
    OutgoingMessage,
    clamp_wait,
    redact,
)

# Opt in to PTB's future behaviour (periods as timedelta); classify() accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")
from engine.channels.telegram.format import (
    classify,
    fit_html,
    format_message,
    format_text,
    keyboard_rows,
    normalize_base_url,
    parse_command,
    parse_message_id,
)
from engine.vocabulary import Severity

if TYPE_CHECKING:
    from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
    from telegram.request import HTTPXRequest

__all__ = [
    "BotIdentity",
    "CallbackHandler",
    "CommandHandler",
    "TelegramChannel",
    "classify",
    "format_message",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

CallbackHandler = Callable[[str, str, str], "str | None"]
"""on_callback(data, message_id, callback_id) -> text for answerCallbackQuery or None."""
CommandHandler = Callable[[str, list[str]], str]
"""on_command(command, args) -> reply text (empty: no reply)."""

ANSWER_TEXT_MAX = 200
REPLY_MAX_FLOOD_WAIT = 30.0
_ALLOWED_UPDATES = ("message", "callback_query")
STANDBY_REASON = "Telegram commands are handled by another instance (or program) using this bot"
STANDBY_RETRY_SECONDS = 180.0
CONFLICT = "Conflict"  # the ChannelError.kind of a 409 from getUpdates
CONFLICTS_FOR_STANDBY = 2  # 409s in a row that each cut a poll short (see _poll_loop)
CONFLICT_RETRY_SECONDS = 0.05
_LOGGERS_TO_REDACT = ("telegram", "telegram.Bot", "telegram.request", "httpx", "httpcore", __name__)


class _RedactingFilter(logging.Filter):
    """Rewrites records on the library loggers so no registered secret survives."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the handler's problem
            return True
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, self.secrets), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


_REDACTOR = _RedactingFilter()


def _install_log_redaction(secret: str) -> None:
    """Attach the shared redacting filter to every telegram/httpx/httpcore logger."""
    _REDACTOR.secrets.add(secret)
    prefixes = ("telegram", "httpx", "httpcore")
    names = set(_LOGGERS_TO_REDACT) | {
        name for name in list(logging.root.manager.loggerDict) if name.startswith(prefixes)
    }
    for name in names:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


@dataclass
class _Sent:
    """Progress of one multi-part send: parts delivered (counting skipped ones), first and last ids."""

    count: int = 0
    first_id: int | None = None
    last_id: int = 0

    def record(self, index: int, message_id: int) -> None:
        if index == 0:
            self.first_id = message_id
        self.last_id = message_id
        self.count = index + 1


@dataclass(frozen=True)
class BotIdentity:
    """What ``getMe`` says about the bot."""

    id: int
    username: str | None
    first_name: str


class TelegramChannel:
    """Two-way Telegram channel for one chat.

    Args:
        token: bot token (never logged).
        chat_id: the one chat we send to and obey; None until setup discovers it.
        base_url: Bot API URL prefix ("http://host:port" or ".../bot"); None → PTB default.
        timeout: connect/read/write timeout of one HTTP request, seconds.
        min_interval: minimum spacing between messages to the chat, seconds.
        on_callback: ``(data, message_id, callback_id) -> str | None``, run in a worker thread.
        on_command: ``(command, args) -> str``, run in a worker thread; reply sent to the chat.
        clock: monotonic clock used for pacing and flood blocks (tests).
        poll_timeout: long-poll timeout of ``getUpdates`` in whole seconds (≥ 1).
        backoff_max: cap of the exponential back-off after polling errors, seconds.
        max_retry_after: the longest flood block believed, seconds (a larger ``retry_after``
            from the server is clamped to it, for the error and the in-memory block).
        standby_retry: seconds between polling probes while another poller holds the updates.
        machine: this machine's name, put before each message's title when ``name_machine`` says
            (``always``; ``auto`` once the bot is seen shared: a 409, or :meth:`set_shared_probe`).
    """

    name = "telegram"

    def __init__(
        self,
        token: str,
        chat_id: int | str | None,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        min_interval: float = 1.0,
        on_callback: CallbackHandler | None = None,
        on_command: CommandHandler | None = None,
        clock: Callable[[], float] = time.monotonic,
        poll_timeout: float = 25.0,
        backoff_max: float = 30.0,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
        standby_retry: float = STANDBY_RETRY_SECONDS,
        machine: str = "",
        name_machine: str = "never",
    ) -> None:
        if not token or not token.strip():
            raise ValueError("Telegram bot token is empty")
        self._secrets = (token,)
        self._chat_id = chat_id
        self._timeout = timeout
        self._min_interval = min_interval
        self._on_callback = on_callback
        self._on_command = on_command
        self._clock = clock
        self._poll_timeout = max(1, int(poll_timeout))
        self._backoff_initial = 0.5
        self._backoff_max = max(self._backoff_initial, backoff_max)
        self._max_retry_after = max_retry_after
        self._standby_retry = standby_retry
        self._standby = False  # another poller holds the updates: send only, probe now and then
        self._machine = machine
        self._name_machine = name_machine
        self._conflict_seen = False  # a 409 ever: another program polls this token
        self._shared_probe: Callable[[], bool] = lambda: False

        from telegram import Bot
        from telegram.request import HTTPXRequest

        _install_log_redaction(token)
        limits: dict[str, Any] = {
            "read_timeout": timeout,
            "write_timeout": timeout,
            "connect_timeout": timeout,
            "pool_timeout": timeout,
        }
        self._requests: tuple[HTTPXRequest, HTTPXRequest] = (
            HTTPXRequest(connection_pool_size=4, **limits),
            HTTPXRequest(connection_pool_size=1, **limits),
        )
        url = normalize_base_url(base_url)
        extra: dict[str, Any] = {"base_url": url} if url else {}
        self._bot: Bot = Bot(
            token, request=self._requests[0], get_updates_request=self._requests[1], **extra
        )

        self._state = threading.Lock()
        self._closed = False
        self._polling = False
        self._ready = False
        self._last_send: float | None = None
        self._blocked_until = float("-inf")
        self._offset: int | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._init_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="watchkeeper-telegram-handler"
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="watchkeeper-telegram", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ plumbing

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run *coro* on the loop thread and wait at most *timeout* seconds."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("TelegramChannel methods must not be called on its loop thread")
        with self._state:
            if self._closed:
                coro.close()
                raise ChannelError("Telegram channel is closed", permanent=False, kind="Closed")
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ChannelError(
                f"Telegram call did not finish within {timeout:g}s",
                permanent=False,
                kind="TimedOut",
            ) from None
        except concurrent.futures.CancelledError:
            raise ChannelError(
                "Telegram call cancelled (channel closing)", permanent=False, kind="Closed"
            ) from None
        except ChannelError:
            raise
        except Exception as exc:  # noqa: BLE001 - everything becomes a ChannelError
            raise classify(exc, self._secrets) from None

    async def _ensure_ready(self) -> None:
        """Initialize the Bot (getMe) once; retried on the next call after a failure."""
        if self._ready:
            return
        async with self._init_lock:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True

    async def _pace(self) -> None:
        """Wait out ``min_interval`` since the previous send; fail fast during a 429 block."""
        now = self._clock()
        if now < self._blocked_until:
            remaining = self._blocked_until - now
            raise ChannelError(
                f"RetryAfter: flood control active for another {remaining:.1f}s",
                permanent=False,
                retry_after=remaining,
                kind="RetryAfter",
            )
        if self._last_send is not None:
            wait = self._last_send + self._min_interval - now
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_send = self._clock()

    def _failure(self, exc: BaseException) -> ChannelError:
        """Classify *exc*; a RetryAfter (clamped) also blocks further sends for its duration."""
        error = classify(exc, self._secrets)
        if error.retry_after is not None:
            error.retry_after = clamp_wait(error.retry_after, self._max_retry_after)
            self._blocked_until = max(self._blocked_until, self._clock() + error.retry_after)
        return error

    @staticmethod
    def _markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
        if not rows:
            return None
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup

        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in rows
            ]
        )

    def _require_chat(self) -> int | str:
        if self._chat_id is None or str(self._chat_id).strip() == "":
            raise ChannelError(
                "Telegram chat id is not configured", permanent=True, kind="NotConfigured"
            )
        return self._chat_id

    def _is_our_chat(self, chat_id: int | None) -> bool:
        return self._chat_id is not None and str(chat_id) == str(self._chat_id).strip()

    # ------------------------------------------------------------------ sending

    def notify(self, msg: OutgoingMessage) -> Delivery:
        """Send *msg* (split into ≤ 4096-unit chunks); return the last chunk's id.

        Buttons go on the last chunk, ``reply_to`` on the first; "info" is silent.
        Chunks before ``msg.resume_from`` were delivered by an earlier attempt and are
        skipped. A failure after some chunks were sent raises with ``parts_sent``.
        """
        chat_id = self._require_chat()
        msg = self._named(msg)
        try:
            chunks = format_message(msg)
            rows = keyboard_rows(msg.buttons)
        except ValueError as exc:
            raise ChannelError(
                f"invalid message: {exc}", permanent=True, kind="InvalidMessage"
            ) from None
        start = min(max(0, msg.resume_from), len(chunks))
        if start == len(chunks):  # every part went out before; nothing left to send
            return Delivery(channel_message_id=None, parts_sent=len(chunks))
        silent = msg.severity == Severity.INFO
        reply_to = parse_message_id(msg.reply_to)
        budget = (len(chunks) - start) * (self._timeout + self._min_interval) + self._timeout + 5.0
        sent = self._call(
            self._send_chunks(chat_id, chunks, silent=silent, rows=rows, reply_to=reply_to, start=start),
            budget,
        )
        return Delivery(channel_message_id=str(sent.last_id), parts_sent=sent.count,
                        first_message_id=str(sent.first_id) if sent.first_id is not None else None)

    async def _send_chunks(
        self,
        chat_id: int | str,
        chunks: Sequence[str],
        *,
        silent: bool,
        rows: list[list[tuple[str, str]]],
        reply_to: int | None,
        start: int = 0,
    ) -> _Sent:
        """Send ``chunks[start:]`` in order; a failure raises with the progress made."""
        sent = _Sent(count=start)
        try:
            await self._send_from(chat_id, chunks, sent, silent=silent, rows=rows, reply_to=reply_to)
        except ChannelError as error:
            error.parts_sent, error.first_message_id = sent.count, (
                str(sent.first_id) if sent.first_id is not None else None)
            raise
        return sent

    async def _send_from(
        self,
        chat_id: int | str,
        chunks: Sequence[str],
        sent: _Sent,
        *,
        silent: bool,
        rows: list[list[tuple[str, str]]],
        reply_to: int | None,
    ) -> None:
        from telegram import LinkPreviewOptions

        try:
            await self._ensure_ready()
        except Exception as exc:  # noqa: BLE001
            raise self._failure(exc) from None
        async with self._send_lock:
            for index in range(sent.count, len(chunks)):
                text = chunks[index]
                first, last = index == 0, index == len(chunks) - 1
                await self._pace()
                try:
                    message: Message = await self._bot.send_message(
                        chat_id=chat_id,
                        text=text,
                        parse_mode="HTML",
                        disable_notification=silent,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                        reply_markup=self._markup(rows) if last else None,
                        reply_to_message_id=reply_to if first else None,
                        allow_sending_without_reply=True if first and reply_to else None,
                    )
                except Exception as exc:  # noqa: BLE001
                    raise self._failure(exc) from None
                sent.record(index, message.message_id)

    def set_shared_probe(self, probe: Callable[[], bool]) -> None:
        """``probe()`` says whether another machine was seen on this bot (its buttons pressed here)."""
        self._shared_probe = probe

    def _named(self, msg: OutgoingMessage) -> OutgoingMessage:
        """``msg`` with ``[machine]`` before its title when messages name their machine."""
        from engine.channels.telegram.identity import names_machine

        if not self._machine or self._name_machine == "never":
            return msg
        try:
            shared = self._conflict_seen or self._shared_probe()
        except Exception as exc:  # noqa: BLE001 - naming is a convenience; the alert goes out regardless
            log.debug("could not tell whether the bot is shared: %s", exc)
            shared = False
        if not names_machine(self._name_machine, shared):
            return msg
        return dataclasses.replace(msg, title=f"[{self._machine}] {msg.title}" if msg.title else f"[{self._machine}]")

    def edit(
        self,
        message_id: str,
        text: str,
        buttons: list[tuple[str, str]] | None = None,
        *,
        title: str | None = None,
    ) -> None:
        """Replace a sent message's text (plain text, escaped; optional bold title).

        ``buttons=None`` removes the inline keyboard. "Message is not modified" is
        treated as success, so edits are idempotent.
        """
        chat_id = self._require_chat()
        target = parse_message_id(message_id)
        if target is None:
            raise ChannelError(
                f"not a Telegram message id: {message_id!r}", permanent=True, kind="InvalidMessage"
            )
        try:
            rows = keyboard_rows(buttons or [])
        except ValueError as exc:
            raise ChannelError(
                f"invalid buttons: {exc}", permanent=True, kind="InvalidMessage"
            ) from None
        html_text = fit_html(text, title=title)
        self._call(
            self._edit(chat_id, target, html_text, rows),
            2 * self._timeout + self._min_interval + 5.0,
        )

    async def _edit(
        self, chat_id: int | str, message_id: int, text: str, rows: list[list[tuple[str, str]]]
    ) -> None:
        from telegram.error import BadRequest

        try:
            await self._ensure_ready()
        except Exception as exc:  # noqa: BLE001
            raise self._failure(exc) from None
        async with self._send_lock:
            await self._pace()
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode="HTML",
                    reply_markup=self._markup(rows),
                    link_preview_options=None,
                )
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return
                raise self._failure(exc) from None
            except Exception as exc:  # noqa: BLE001
                raise self._failure(exc) from None

    def answer_callback(self, callback_id: str, text: str | None) -> None:
        """Answer a callback query (stops the button spinner); text ≤ 200 chars."""
        self._call(self._answer(callback_id, text), 2 * self._timeout + 5.0)

    async def _answer(self, callback_id: str, text: str | None) -> None:
        clipped = text
        if text and len(text) > ANSWER_TEXT_MAX:
            clipped = text[: ANSWER_TEXT_MAX - 1] + "…"
        try:
            await self._ensure_ready()
            await self._bot.answer_callback_query(callback_id, text=clipped or None)
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, self._secrets) from None

    def get_me(self) -> BotIdentity:
        """Ask Telegram who the bot is (a real round trip: validates token and URL)."""
        return self._call(self._get_me(), 2 * self._timeout + 5.0)

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> bool:
        """Make the chat's command menu ``commands`` ((name, description) pairs); idempotent: the
        menu is read first and set only when it differs. Returns whether it was set."""
        return self._call(self._set_commands(list(commands)), 3 * self._timeout + 5.0)

    async def _set_commands(self, commands: list[tuple[str, str]]) -> bool:
        from telegram import BotCommand

        await self._ensure_ready()
        current = [(c.command, c.description) for c in await self._bot.get_my_commands()]
        if current == commands:
            return False
        await self._bot.set_my_commands([BotCommand(name, description) for name, description in commands])
        return True

    async def _get_me(self) -> BotIdentity:
        await self._ensure_ready()
        user = await self._bot.get_me()
        return BotIdentity(id=user.id, username=user.username, first_name=user.first_name)

    # ------------------------------------------------------------------ receiving

    def set_handlers(self, *, on_callback: CallbackHandler | None, on_command: CommandHandler | None) -> None:
        """Replace the button and command handlers (before :meth:`start_polling`)."""
        self._on_callback = on_callback
        self._on_command = on_command

    def discover_chat_id(self, timeout: float) -> int | None:
        """Wait up to *timeout* s for a "/start" and return that chat's id (setup flow).

        Must not run while polling (Telegram allows one getUpdates consumer).
        Permanent errors (bad token) raise ChannelError; transient ones are retried.
        """
        with self._state:
            if self._polling:
                raise RuntimeError("discover_chat_id() cannot run while polling")
        return self._call(self._discover(timeout), timeout + self._timeout + 5.0)

    async def _discover(self, timeout: float) -> int | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await self._ensure_ready()
                updates = await self._bot.get_updates(
                    offset=self._offset,
                    timeout=max(1, min(self._poll_timeout, int(remaining))),
                    allowed_updates=list(_ALLOWED_UPDATES),
                )
            except Exception as exc:  # noqa: BLE001
                error = classify(exc, self._secrets)
                if error.permanent:
                    raise error from None
                await asyncio.sleep(min(1.0, max(0.0, deadline - loop.time())))
                continue
            for update in updates:
                self._offset = update.update_id + 1
                message = update.message
                if message is None or not message.text:
                    continue
                parsed = parse_command(message.text, self._bot.username)
                if parsed is not None and parsed[0] == "start":
                    await self._confirm_offset()
                    return message.chat.id

    async def _confirm_offset(self) -> None:
        """Tell Telegram the updates read so far are taken (a getUpdates with the next offset), so
        no other poller of the bot (another instance, or this one after setup) answers them again."""
        try:
            await self._bot.get_updates(offset=self._offset, timeout=0, limit=1,
                                        allowed_updates=list(_ALLOWED_UPDATES))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next poll confirms them anyway; a repeat is harmless
            log.info("could not confirm the Telegram updates read so far: %s", classify(exc, self._secrets))

    def start_polling(self) -> None:
        """Start the getUpdates long-poll loop on the channel's loop (idempotent)."""
        with self._state:
            if self._closed:
                raise ChannelError("Telegram channel is closed", permanent=False, kind="Closed")
            if self._polling:
                return
            self._polling = True
        asyncio.run_coroutine_threadsafe(self._spawn_poller(), self._loop).result(5.0)

    async def _spawn_poller(self) -> None:
        self._poll_task = asyncio.create_task(self._poll_loop(), name="telegram-poll")

    def standby(self) -> str | None:
        """Why this channel only sends (another poller holds the bot's updates), or None while it polls."""
        return STANDBY_REASON if self._standby else None

    async def _poll_loop(self) -> None:
        """Long-poll forever; errors back off exponentially.

        A 409 Conflict means another program polls this token. A 409 that ends a poll which had
        run a while is the other program starting (or a standby instance's probe): retried at
        once. Two in a row that end polls cut short (under ``window``) mean the other keeps
        taking the updates and this one came second (or a webhook is set): this one
        goes to standby (it keeps sending) and probes with a short
        ``getUpdates`` every ``standby_retry`` seconds, resuming when two probes a moment apart
        return updates (nobody else took them: a poller confirms what it reads at once, before
        its handlers run, so a command is answered by one instance only). Entering and leaving
        standby log one line each; the first failure of a run of the same kind is a warning
        (repeats are debug), so a second machine polling with the same token cannot flood the log.
        """
        backoff = self._backoff_initial
        failing: str | None = None  # kind of the current run of failures
        conflicts = 0  # 409s in a row that cut a poll short
        second_look = False  # standby: a probe found updates; look again before taking them
        window = min(1.0, self._standby_retry / 4)
        loop = asyncio.get_running_loop()
        while True:
            standby = self._standby
            started = loop.time()
            try:
                await self._ensure_ready()
                started = loop.time()
                updates = await self._bot.get_updates(
                    offset=self._offset,
                    timeout=0 if standby else self._poll_timeout,
                    allowed_updates=list(_ALLOWED_UPDATES),
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - polling must survive everything
                error = classify(exc, self._secrets)
                second_look = False
                if error.kind == CONFLICT:
                    self._conflict_seen = True
                    conflicts = conflicts + 1 if loop.time() - started < window else 0
                    if not standby and conflicts >= CONFLICTS_FOR_STANDBY:
                        self._standby = True
                        log.warning("%s; sending only, retrying every %gs", STANDBY_REASON, self._standby_retry)
                    await asyncio.sleep(self._standby_retry if self._standby else CONFLICT_RETRY_SECONDS)
                    continue
                wait = clamp_wait(error.retry_after, self._max_retry_after) or backoff
                if self._standby:
                    wait = max(wait, self._standby_retry)
                level = logging.DEBUG if error.kind == failing else logging.WARNING
                log.log(level, "Telegram polling failed (%s); retrying in %.1fs", error, wait)
                failing = error.kind
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, self._backoff_max)
                continue
            conflicts = 0
            if failing is not None:
                log.info("Telegram polling works again")
                failing = None
            backoff = self._backoff_initial
            if standby:
                if not updates:  # another poller takes them: stay in standby
                    second_look = False
                    await asyncio.sleep(self._standby_retry)
                    continue
                if not second_look:
                    # The poller may have read these a moment ago and not yet confirmed them (it
                    # does so at once, below): take them over only if still unread a moment later.
                    # Longer than `window`, so the poll this next probe ends is not "cut short" there.
                    second_look = True
                    await asyncio.sleep(2 * window)
                    continue
                second_look = False
                self._standby = False
                log.warning("Telegram commands are handled by this instance again")
            if updates:
                # Advance and confirm before any handler runs: a failing handler must not make us
                # see the update again, and a standby instance's probe during a slow handler must
                # not read it too (it would answer the same command twice).
                self._offset = updates[-1].update_id + 1
                await self._confirm_offset()
            for update in updates:
                try:
                    await self._dispatch(update)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    log.error(
                        "Telegram update %s failed: %s",
                        update.update_id,
                        redact(f"{type(exc).__name__}: {exc}", self._secrets),
                    )

    async def _dispatch(self, update: Update) -> None:
        chat = update.effective_chat
        if chat is None or not self._is_our_chat(chat.id):
            log.warning(
                "Ignoring Telegram update %s from chat %s (not the configured chat)",
                update.update_id,
                chat.id if chat else None,
            )
            return
        if update.callback_query is not None:
            await self._handle_callback(update.callback_query)
        elif update.message is not None and update.message.text:
            await self._handle_message(update.message)

    async def _run_handler(self, func: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, func, *args)

    async def _handle_callback(self, query: CallbackQuery) -> None:
        message_id = str(query.message.message_id) if query.message is not None else ""
        text: str | None = None
        if self._on_callback is not None:
            try:
                text = await self._run_handler(
                    self._on_callback, query.data or "", message_id, query.id
                )
            except Exception as exc:  # noqa: BLE001 - the user still gets an answer
                log.error("on_callback failed: %s", redact(repr(exc), self._secrets))
                text = "Action failed; see the Watchkeeper log."
        try:
            await self._answer(query.id, text)
        except ChannelError as exc:
            log.warning("answerCallbackQuery failed: %s", exc)

    async def _handle_message(self, message: Message) -> None:
        username = self._bot.username if self._ready else None
        parsed = parse_command(message.text or "", username)
        if parsed is None or self._on_command is None:
            log.debug("Ignoring non-command message %s", message.message_id)
            return
        command, args = parsed
        try:
            reply = await self._run_handler(self._on_command, command, args)
        except Exception as exc:  # noqa: BLE001
            log.error("on_command(%s) failed: %s", command, redact(repr(exc), self._secrets))
            reply = f"/{command} failed; see the Watchkeeper log."
        if not reply:
            return
        await self._reply(message.chat.id, message.message_id, reply, f"/{command}")

    async def _reply(self, chat_id: int, reply_to: int, text: str, what: str) -> None:
        """Send a command reply; wait out one short flood block instead of dropping it."""
        for attempt in (1, 2):
            try:
                await self._send_chunks(
                    chat_id, format_text(text), silent=False, rows=[], reply_to=reply_to
                )
                return
            except ChannelError as exc:
                wait = exc.retry_after
                if attempt == 2 or wait is None or wait > REPLY_MAX_FLOOD_WAIT:
                    log.warning("Reply to %s failed: %s", what, exc)
                    return
                await asyncio.sleep(wait)

    # ------------------------------------------------------------------ lifecycle

    def close(self, timeout: float = 5.0) -> None:
        """Stop polling, close HTTP connections, stop and join the loop thread (bounded)."""
        with self._state:
            if self._closed:
                return
            self._closed = True
        deadline = time.monotonic() + timeout
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            try:
                future.result(timeout)
            except Exception as exc:  # noqa: BLE001 - closing must not raise
                log.warning("Telegram shutdown incomplete: %s", redact(repr(exc), self._secrets))
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(max(0.1, deadline - time.monotonic()))
        if not self._thread.is_alive():
            self._loop.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        try:
            if self._ready:
                await asyncio.wait_for(self._bot.shutdown(), 2.0)
        except Exception as exc:  # noqa: BLE001
            log.debug("Bot.shutdown failed: %s", redact(repr(exc), self._secrets))
        finally:
            for request in self._requests:
                try:
                    await asyncio.wait_for(request.shutdown(), 1.0)
                except Exception as exc:  # noqa: BLE001
                    log.debug("request shutdown failed: %s", redact(repr(exc), self._secrets))

    def __enter__(self) -> TelegramChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
