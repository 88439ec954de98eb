"""Pure Telegram helpers: HTML formatting, splitting, keyboards, commands, errors.

Nothing here talks to the network, and ``telegram`` is imported only inside
:func:`classify` (the exceptions it classifies come from that package anyway).

Limits: a message holds at most 4096 characters after entity
parsing, Telegram counts UTF-16 code units, and callback data is 1-64 bytes.
Chunks are measured on the *escaped* HTML in UTF-16 units, which is never less
than what Telegram counts, so every chunk is accepted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta

from engine.channels.base import ChannelError, OutgoingMessage

__all__ = [
    "CALLBACK_DATA_MAX_BYTES",
    "MAX_TEXT",
    "MAX_TITLE",
    "classify",
    "fit_html",
    "format_message",
    "format_text",
    "keyboard_rows",
    "normalize_base_url",
    "parse_command",
    "parse_message_id",
]

MAX_TEXT = 4096
MAX_TITLE = 256
CALLBACK_DATA_MAX_BYTES = 64
BUTTONS_PER_ROW = 3
ELLIPSIS = "…"

_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?$")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _units(text: str) -> int:
    """UTF-16 code units, Telegram's unit of length."""
    return len(text.encode("utf-16-le")) // 2


def _cost(text: str) -> int:
    return _units(_escape(text))


def _cut(line: str, cap: int) -> tuple[str, str]:
    """Split *line* so the head's escaped cost is ≤ cap; prefer a space near the end."""
    used = 0
    end = 0
    for index, ch in enumerate(line):
        cost = _cost(ch)
        if used + cost > cap:
            break
        used += cost
        end = index + 1
    end = max(end, 1)
    space = line.rfind(" ", 0, end)
    if space > end // 2:
        end = space + 1
    return line[:end], line[end:]


def _pack(text: str, first_cap: int, cap: int) -> list[str]:
    """Greedy packing of lines into chunks; over-long lines are hard-split."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0

    def limit() -> int:
        return first_cap if not chunks else cap

    def flush() -> None:
        nonlocal current, used
        chunks.append("".join(current))
        current, used = [], 0

    for line in text.splitlines(keepends=True):
        cost = _cost(line)
        if used + cost <= limit():
            current.append(line)
            used += cost
            continue
        if current:
            flush()
        while _cost(line) > limit():
            head, line = _cut(line, limit())
            chunks.append(head)
        current, used = [line], _cost(line)
    if current:
        flush()
    return chunks


def _one_line(text: str, cap: int) -> str:
    flat = " ".join(text.split())
    if _cost(flat) <= cap:
        return flat
    head, _ = _cut(flat, cap - 1)
    return head.rstrip() + ELLIPSIS


def format_text(text: str, *, title: str | None = None, limit: int = MAX_TEXT) -> list[str]:
    """HTML-escape *text* (with an optional bold one-line *title* on top) into chunks.

    Every chunk is ≤ *limit* (4096) UTF-16 units; splits fall on line boundaries when a
    line fits, otherwise on a space, otherwise anywhere (never inside an entity).
    Blank chunks are dropped; the result is never empty.
    """
    head = f"<b>{_escape(_one_line(title, MAX_TITLE))}</b>" if title and title.strip() else ""
    body = text.strip("\n").rstrip()
    if not body:
        return [head or _escape(ELLIPSIS)]
    first_cap = limit - _units(head) - 1 if head else limit
    chunks: list[str] = []
    for index, piece in enumerate(_pack(body, first_cap, limit)):
        piece = piece.rstrip("\n")
        if index == 0 and head:
            chunks.append(f"{head}\n{_escape(piece)}" if piece.strip() else head)
        elif piece.strip():
            chunks.append(_escape(piece))
    return chunks or [_escape(ELLIPSIS)]


def format_message(msg: OutgoingMessage) -> list[str]:
    """Render *msg* as HTML chunks (parse_mode HTML): bold title, escaped body."""
    return format_text(msg.body, title=msg.title)


def fit_html(text: str, *, title: str | None = None) -> str:
    """Like :func:`format_text` but one chunk: the rest is cut with an ellipsis."""
    chunks = format_text(text, title=title, limit=MAX_TEXT - _units(ELLIPSIS))
    return chunks[0] if len(chunks) == 1 else chunks[0] + ELLIPSIS


def keyboard_rows(buttons: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Group (label, callback_data) buttons into rows of three, validating them.

    Raises ValueError for an empty label or callback data outside 1-64 bytes.
    """
    rows: list[list[tuple[str, str]]] = []
    for label, data in buttons:
        if not label.strip():
            raise ValueError("button label is empty")
        size = len(data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            raise ValueError(f"callback data must be 1-64 bytes, got {size}")
        if not rows or len(rows[-1]) >= BUTTONS_PER_ROW:
            rows.append([])
        rows[-1].append((label, data))
    return rows


def parse_message_id(value: str | None) -> int | None:
    """Return a Telegram message id from a stored channel id, or None if not one."""
    if value is None:
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, list[str]] | None:
    """Parse "/cmd@bot a b" into ("cmd", ["a", "b"]); None if not a command for us.

    The command is lower-cased. A command addressed to another bot (``@other``)
    is not ours; without a known username any ``@bot`` suffix is accepted.
    """
    parts = text.strip().split()
    if not parts:
        return None
    match = _COMMAND_RE.match(parts[0])
    if match is None:
        return None
    command, target = match.group(1).lower(), match.group(2)
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return command, parts[1:]


def normalize_base_url(base_url: str | None) -> str | None:
    """Accept "http://host:port", ".../bot" or a PTB format string; return PTB's form.

    PTB appends the token to ``base_url``, so a bare server root gets ``/bot``.
    """
    if base_url is None or not base_url.strip():
        return None
    url = base_url.strip()
    if "{" in url:
        return url
    url = url.rstrip("/")
    return url if url.endswith("/bot") else url + "/bot"


def _seconds(value: object) -> float | None:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float):
        return float(value)
    return None


def _retry_after_seconds(exc: BaseException) -> float | None:
    # PTB ≥ 22.2 stores a timedelta in ``_retry_after`` and warns when the public
    # property returns an int; read the private field first to avoid the warning.
    seconds = _seconds(getattr(exc, "_retry_after", None))
    if seconds is None:
        seconds = _seconds(getattr(exc, "retry_after", None))
    return seconds


def classify(exc: BaseException, secrets: Iterable[str] = ()) -> ChannelError:
    """Map an exception from PTB (or the transport) to a redacted ChannelError.

    Order matters because ``BadRequest`` subclasses ``NetworkError``:
    RetryAfter → transient with ``retry_after``; ChatMigrated, Forbidden,
    InvalidToken, BadRequest, EndPointNotFound → permanent; Conflict, TimedOut,
    NetworkError and timeouts → transient; ValueError → permanent; anything
    else → transient.
    """
    if isinstance(exc, ChannelError):
        return exc
    import asyncio  # here, not at the top: the channel spec imports this module at start-up
    import concurrent.futures

    from telegram import error as tg

    kind = type(exc).__name__
    text = str(exc) or kind
    secrets = tuple(secrets)

    def make(message: str, permanent: bool, retry_after: float | None = None) -> ChannelError:
        return ChannelError(
            f"{kind}: {message}",
            permanent=permanent,
            retry_after=retry_after,
            kind=kind,
            secrets=secrets,
        )

    if isinstance(exc, tg.RetryAfter):
        return make(text, False, _retry_after_seconds(exc))
    if isinstance(exc, tg.ChatMigrated):
        return make(f"chat migrated to {exc.new_chat_id}; update the chat id", True)
    if isinstance(exc, tg.BadRequest) and "chat not found" in text.lower():
        return make(f"{text} (send /start to the bot, then check the chat id)", True)
    if isinstance(exc, tg.Forbidden | tg.InvalidToken | tg.BadRequest | tg.EndPointNotFound):
        return make(text, True)
    if isinstance(exc, tg.Conflict):
        return make(f"{text} (another poller or a webhook uses this token)", False)
    if isinstance(exc, tg.TimedOut | tg.NetworkError | tg.TelegramError):
        return make(text, False)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | concurrent.futures.TimeoutError):
        return make(text, False)
    if isinstance(exc, ValueError):
        return make(text, True)
    return make(text, False)
