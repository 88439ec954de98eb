"""Streaming, tolerant reading of JSONL transcripts.

Files are read in binary blocks, never whole. A block handed to the parser always ends at a
newline, so the caller can keep it verbatim (compressed) as the raw archive of that byte range.
A line longer than ``max_line_bytes`` is never held in memory: it is hashed while it streams
past and reported as :class:`Oversize` (offset, length, sha256), and its bytes are *not* kept.
A trailing fragment without a newline is reported as :class:`Tail` and not consumed: it may be
mid-write and is read again on the next run.

:func:`decode_line` turns one line into JSON objects: orjson on the fast path; on failure it
strips NUL runs, repairs invalid UTF-8 and lone surrogates, and splits spliced records. It never
returns or logs the line's content in an error.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
BLOCK_SIZE = 1024 * 1024
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4096


@dataclass(frozen=True)
class Block:
    """Complete lines ``data`` (ending with a newline) starting at byte ``start``."""

    start: int
    data: bytes


@dataclass(frozen=True)
class Oversize:
    """A line longer than the guard, skipped: ``terminated`` is False when EOF came first."""

    start: int
    length: int
    sha256: str
    terminated: bool


@dataclass(frozen=True)
class Tail:
    """A trailing fragment without a newline at ``start`` (not consumed)."""

    start: int
    data: bytes


@dataclass(frozen=True)
class Problem:
    """What was wrong with a line: ``kind`` is a short code, ``error`` never holds content."""

    kind: str
    error: str
    recovered: bool


def iter_blocks(
    f: BinaryIO, start: int, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    block_size: int = BLOCK_SIZE, end: int | None = None,
) -> Iterator[Block | Oversize | Tail]:
    """Yield blocks of complete lines from ``start`` up to ``end`` (default EOF), oversize
    lines, and a trailing fragment.

    Memory stays below ``max_line_bytes + 2 * block_size`` whatever the line lengths.
    """
    f.seek(start)
    pos = start
    left = -1 if end is None else max(0, end - start)
    pending = b""
    skip_len = 0
    skip_hash: Any = None
    while left != 0:
        buf = f.read(block_size if left < 0 else min(block_size, left))
        if not buf:
            break
        if left > 0:
            left -= len(buf)
        while buf:
            if skip_hash is not None:
                nl = buf.find(b"\n")
                if nl < 0:
                    skip_hash.update(buf)
                    skip_len += len(buf)
                    buf = b""
                    break
                skip_hash.update(buf[: nl + 1])
                skip_len += nl + 1
                yield Oversize(pos, skip_len, skip_hash.hexdigest(), True)
                pos += skip_len
                skip_hash, skip_len = None, 0
                buf = buf[nl + 1 :]
                continue
            data = pending + buf if pending else buf
            buf = b""
            cut = data.rfind(b"\n")
            if cut >= 0:
                yield Block(pos, data[: cut + 1])
                pos += cut + 1
                pending = data[cut + 1 :]
            else:
                pending = data
            if len(pending) > max_line_bytes:
                skip_hash = hashlib.sha256(pending)
                skip_len = len(pending)
                pending = b""
    if skip_hash is not None:
        yield Oversize(pos, skip_len, skip_hash.hexdigest(), False)
    elif pending:
        yield Tail(pos, pending)


def fingerprint(f: BinaryIO, offset: int) -> tuple[str, str]:
    """Hashes of the head (first 64 KB, up to ``offset``) and of the 4 KB before ``offset``.

    The file position is restored: a parse that is still streaming the file (a flush between
    two blocks) must go on reading where it was, not at ``offset``.
    """
    here = f.tell()
    f.seek(0)
    head = f.read(min(HEAD_BYTES, offset))
    t0 = max(0, offset - TAIL_BYTES)
    f.seek(t0)
    tail = f.read(offset - t0)
    f.seek(here)
    return (
        hashlib.blake2b(head, digest_size=16).hexdigest(),
        hashlib.blake2b(tail, digest_size=16).hexdigest(),
    )


def line_sha256(raw: bytes) -> str:
    """Hash recorded for a bad line instead of its content."""
    return hashlib.sha256(raw).hexdigest()


_NUL_RUN = re.compile(rb"\x00+")
# An object start "{" + quote that no valid JSON text can have: preceded by a byte other than
# ':', '[', ',', '{' or whitespace. (Inside strings a quote is always escaped.)
_SPLICE = re.compile(rb'(?<=[^:\[,{\s])(?=\{")')


def _error_text(exc: Exception) -> str:
    # orjson / json messages name a position, never the document; keep it short regardless.
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def sanitize(value: Any) -> Any:
    """Replace lone surrogates in every string of a decoded JSON value (safe for SQLite)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {sanitize(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    return value


def safe_text(value: str) -> str:
    """A string made safe for UTF-8 storage (lone surrogates replaced)."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def _slow_decode(raw: bytes) -> Any:
    """stdlib decode of bytes that orjson refused: invalid UTF-8 replaced, surrogates repaired."""
    return sanitize(json.loads(raw.decode("utf-8", "replace")))


def decode_line(raw: bytes) -> tuple[list[Any], Problem | None]:
    """Decode one line into the JSON values it holds, and what was wrong with it, if anything.

    Fast path: one ``orjson.loads``. Recovery, in order: NUL runs stripped, invalid UTF-8 /
    lone surrogates repaired via the stdlib decoder, spliced records split. Non-object values
    are returned too (the caller decides); an unrecoverable line returns ``([], problem)``.
    """
    try:
        return [orjson.loads(raw)], None
    except orjson.JSONDecodeError as exc:
        first_error = exc
    kinds: list[str] = []
    pieces = [raw]
    if b"\x00" in raw:
        kinds.append("nul")
        pieces = [p for p in _NUL_RUN.split(raw) if p.strip()]
    values: list[Any] = []
    failed = 0
    for piece in pieces:
        got, how = _decode_piece(piece)
        if how:
            kinds.append(how)
        if got:
            values.extend(got)
        else:
            failed += 1
    kind = "+".join(dict.fromkeys(kinds)) or "json"
    if values and not failed:
        return values, Problem(kind, _error_text(first_error), True)
    if values:
        return values, Problem(kind + "+partial", _error_text(first_error), True)
    return [], Problem(kind, _error_text(first_error), False)


def _decode_piece(piece: bytes) -> tuple[list[Any], str]:
    try:
        return [orjson.loads(piece)], ""
    except orjson.JSONDecodeError:
        pass
    try:
        return [_slow_decode(piece)], "encoding"
    except (ValueError, RecursionError):
        pass
    parts = _SPLICE.split(piece)
    if len(parts) < 2:
        return [], ""
    found: list[Any] = []
    lost = 0
    for part in parts:
        try:
            found.append(orjson.loads(part))
        except orjson.JSONDecodeError:
            try:
                found.append(_slow_decode(part))
            except (ValueError, RecursionError):
                lost += 1
    return found, "splice+partial" if lost and found else "splice"
