"""The archive's rows as typed records, and each table declared once from its record.

A record's fields are the table's columns, in order: :class:`Table` generates the INSERT and
upsert SQL from them, and :meth:`Table.rows` the parameter tuples, so no column order is
written twice. The records are msgspec Structs (``array_like``: encoded as plain arrays), which
is also how they cross the pipe from a parse worker (measured faster to encode than marshal of
plain tuples, and as fast to decode).

The merge rule of a column (what an upsert keeps when the key already exists) is a SQL
expression template: ``{c}`` is the stored value, ``excluded.{c}`` the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from msgspec import Struct

# Merge rules for upserts (see the module docstring).
KEEP_FIRST = "coalesce({c}, excluded.{c})"
TAKE_NEW = "coalesce(excluded.{c}, {c})"
REPLACE = "excluded.{c}"
MAX = "max({c}, excluded.{c})"
EARLIEST = "min(coalesce({c}, excluded.{c}), coalesce(excluded.{c}, {c}))"
LATEST = "max(coalesce({c}, excluded.{c}), coalesce(excluded.{c}, {c}))"


class Entry(Struct, frozen=True, array_like=True):
    """One indexed line (archive_entries); ``entry_key`` is the natural key."""

    entry_key: str
    session_id: str
    agent_id: str
    file_id: int
    byte_offset: int
    line_no: int
    kind: str
    rtype: str | None
    subtype: str | None
    uuid: str | None
    parent_uuid: str | None
    message_key: str | None
    ts: str | None
    text: str | None
    tools: str | None


class Message(Struct, array_like=True):
    """One API response (archive_messages), merged over the lines that share its id."""

    session_id: str
    agent_id: str
    message_id: str
    request_id: str | None
    model: str | None
    first_ts: str | None
    last_ts: str | None
    stop_reason: str | None
    usage_final: int
    is_api_error: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cache_creation_1h_tokens: int = 0  # the 1-hour part of cache_creation_tokens (priced apart)


class ToolCall(Struct, array_like=True):
    """One tool call and its result (archive_tool_calls), filled in by the call and result lines."""

    session_id: str
    tool_use_id: str
    agent_id: str = ""
    name: str | None = None
    message_key: str | None = None
    input_preview: str | None = None
    file_path: str | None = None
    called_ts: str | None = None
    result_ts: str | None = None
    has_call: int = 0
    has_result: int = 0
    is_error: int = 0
    result_preview: str | None = None
    linked_agent_id: str | None = None
    call_pos: int | None = None
    result_pos: int | None = None


class Subagent(Struct, array_like=True):
    """One subagent of a session (archive_subagents)."""

    session_id: str
    agent_id: str
    file_id: int | None = None
    tool_use_id: str | None = None
    agent_type: str | None = None
    description: str | None = None
    is_warmup: int = 0


class CcSummary(Struct, frozen=True, order=True, array_like=True):
    """A Claude Code ``summary`` record naming a leaf uuid (archive_cc_summaries)."""

    leaf_uuid: str
    summary: str
    file_id: int


class TokenEvent(Struct, frozen=True, array_like=True):
    """One Codex token-count delta (archive_token_events)."""

    event_key: str
    session_id: str
    ts: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    model: str | None = None  # from the rollout's latest turn_context (None when none came first)


class BadLine(Struct, frozen=True, array_like=True):
    """A line that did not parse cleanly (archive_bad_lines): never its content, only its hash."""

    file_id: int
    byte_offset: int
    line_no: int
    length: int
    kind: str
    error: str
    recovered: int
    line_sha256: str | None


class Leaf(Struct, frozen=True, array_like=True):
    """A Claude uuid no later record names as parent (archive_leaves)."""

    uuid: str
    session_id: str
    file_id: int


class FileSession(Struct, frozen=True, array_like=True):
    """A session that has records in a file (archive_file_sessions)."""

    file_id: int
    session_id: str


class RawChunk(Struct, frozen=True, array_like=True):
    """The exact source bytes of a range of complete lines (archive_raw_chunks), compressed
    with ``codec`` (:data:`engine.archive.codec.PLAIN`: not compressed yet, never stored)."""

    file_id: int
    generation: int
    start_offset: int
    end_offset: int
    codec: str
    data: bytes


class SessionMeta(Struct, array_like=True):
    """What a batch learnt about a session (cwd, branch, version, times): merged into its
    conversation_archive_sessions row (see store.py)."""

    session_id: str
    parent_session_id: str | None = None
    project: str | None = None
    cwd: str | None = None
    cwd_weak: str | None = None  # a subagent's cwd: fills a gap, never wins
    git_branch: str | None = None
    cli_version: str | None = None
    first_ts: str | None = None
    last_ts: str | None = None


class Table:
    """One archive table: its name, columns (the record's fields), natural key and merge rules."""

    def __init__(self, name: str, record: type[Struct], key: tuple[str, ...] = (),
                 merge: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.record = record
        self.columns: tuple[str, ...] = record.__struct_fields__
        self.key = key
        unknown = set(key) | set(merge or {})
        unknown -= set(self.columns)
        if unknown:
            raise ValueError(f"{name}: no such column(s) {sorted(unknown)}")
        self.merge = dict(merge or {})
        if self.merge and self.columns[:len(key)] != key:
            raise ValueError(f"{name}: the key columns must lead a table with merge rules")
        marks = ",".join("?" * len(self.columns))
        self.insert_sql = (f"INSERT INTO {name} ({', '.join(self.columns)}) VALUES ({marks})"
                           " ON CONFLICT DO NOTHING")
        """Insert, skipping rows whose key (or any unique constraint) already exists."""
        self.upsert_sql = self.insert_sql
        """Insert, merging into an existing row by the merge rules (plain insert without any)."""
        if self.merge:
            sets = ", ".join(f"{c}={rule.format(c=c)}" for c, rule in self.merge.items())
            self.upsert_sql = (self.insert_sql.removesuffix(" DO NOTHING").removesuffix(
                " ON CONFLICT") + f" ON CONFLICT({', '.join(key)}) DO UPDATE SET {sets}")

    def rows(self, records: Iterable[Struct]) -> list[tuple[Any, ...]]:
        """Parameter tuples for :attr:`insert_sql` / :attr:`upsert_sql`, in column order."""
        astuple = msgspec.structs.astuple
        return [astuple(r) for r in records]

    def key_of(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """The natural key of a parameter tuple (key columns lead a table with merge rules)."""
        return row[:len(self.key)]


RAW_CHUNKS = Table("archive_raw_chunks", RawChunk, ("file_id", "generation", "start_offset"))
ENTRIES = Table("archive_entries", Entry, ("entry_key",))
MESSAGES = Table("archive_messages", Message, ("session_id", "agent_id", "message_id"), {
    "request_id": KEEP_FIRST, "model": KEEP_FIRST, "first_ts": EARLIEST, "last_ts": LATEST,
    "stop_reason": TAKE_NEW, "usage_final": MAX, "is_api_error": MAX, "input_tokens": MAX,
    "output_tokens": MAX, "cache_read_tokens": MAX, "cache_creation_tokens": MAX, "cache_creation_1h_tokens": MAX,
})
TOOL_CALLS = Table("archive_tool_calls", ToolCall, ("session_id", "tool_use_id"), {
    "agent_id": "CASE WHEN excluded.has_call THEN excluded.agent_id ELSE agent_id END",
    "name": TAKE_NEW, "message_key": TAKE_NEW, "input_preview": TAKE_NEW, "file_path": TAKE_NEW,
    "called_ts": TAKE_NEW, "result_ts": TAKE_NEW, "has_call": MAX, "has_result": MAX,
    "is_error": MAX, "result_preview": TAKE_NEW, "linked_agent_id": TAKE_NEW,
    "call_pos": TAKE_NEW, "result_pos": TAKE_NEW,
})
SUBAGENTS = Table("archive_subagents", Subagent, ("session_id", "agent_id"), {
    "file_id": TAKE_NEW, "tool_use_id": TAKE_NEW, "agent_type": TAKE_NEW,
    "description": TAKE_NEW, "is_warmup": MAX,
})
CC_SUMMARIES = Table("archive_cc_summaries", CcSummary, ("leaf_uuid", "summary"))
TOKEN_EVENTS = Table("archive_token_events", TokenEvent, ("event_key",))
BAD_LINES = Table("archive_bad_lines", BadLine, ("file_id", "byte_offset"), {
    c: REPLACE for c in ("line_no", "length", "kind", "error", "recovered", "line_sha256")})
LEAVES = Table("archive_leaves", Leaf, ("uuid",))
FILE_SESSIONS = Table("archive_file_sessions", FileSession, ("file_id", "session_id"))


class Rows(Struct, array_like=True):
    """Every row one parsed range of a file adds: what store.write_rows writes."""

    sessions: list[SessionMeta] = []
    entries: list[Entry] = []
    messages: list[Message] = []
    tool_calls: list[ToolCall] = []
    subagents: list[Subagent] = []
    cc_summaries: list[CcSummary] = []
    token_events: list[TokenEvent] = []
    bad_lines: list[BadLine] = []
    leaves_add: list[Leaf] = []
    leaves_del: list[str] = []  # uuids of this file that stopped being leaves


class FileScan(Struct, frozen=True, array_like=True):
    """What a run saw of a file on disk (archive_files columns), recorded with its last job."""

    size: int
    mtime_ns: int
    dev: int | None
    inode: int | None
    last_scanned: str


class FileProgress(Struct, frozen=True, array_like=True):
    """How far a file is parsed (archive_files columns), recorded with every job."""

    parsed_offset: int
    lines_parsed: int
    lines_bad: int
    generation: int
    state: str  # JSON of the parser state carried to the next run
    head_hash: str | None
    tail_hash: str | None
    provider: str
