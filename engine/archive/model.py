"""Plain data for the archive: the per-file parse context, the batch a parse fills (typed rows,
see rows.py), and the read-side views (session, turn, tool call) returned by the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.archive.rows import (
    BadLine,
    CcSummary,
    Entry,
    Leaf,
    Message,
    Rows,
    SessionMeta,
    Subagent,
    TokenEvent,
    ToolCall,
)

# Entry kinds (archive_entries.kind). Tool-call and tool-result lines get no entry row (their
# rows are archive_tool_calls, with the line's position in call_pos / result_pos).
PROMPT = "prompt"  # a human prompt (counted)
ANSWER = "answer"  # assistant text without tool calls
TOOL_USE = "tool_use"  # assistant line issuing tool calls (may carry text)
TOOL_RESULT = "tool_result"
API_ERROR = "api_error"


POS_SHIFT = 40  # byte offsets below 1 TB


def pos(file_id: int, offset: int) -> int:
    """One sortable integer for a line's place: (file_id, byte_offset)."""
    return (file_id << POS_SHIFT) | offset


@dataclass
class FileContext:
    """What a parser knows about the file it reads, and the state carried across runs."""

    file_id: int
    path: str
    provider: str  # claude | codex
    kind: str  # main | legacy_agent | subagent | workflow_side | codex_rollout | unknown
    default_session: str
    agent_id: str = ""  # for subagent / legacy agent files: the agent id from the file name
    project: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    """Rows produced by parsing a range of a file, merged as they come: keyed by their natural
    key, so repeated lines in one batch merge before the upsert. :meth:`rows` hands them to
    store.py (one transaction)."""

    file_id: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)
    messages: dict[tuple[str, str, str], Message] = field(default_factory=dict)
    tool_calls: dict[tuple[str, str], ToolCall] = field(default_factory=dict)
    subagents: dict[tuple[str, str], Subagent] = field(default_factory=dict)
    cc_summaries: set[CcSummary] = field(default_factory=set)
    token_events: dict[str, TokenEvent] = field(default_factory=dict)
    session_meta: dict[str, SessionMeta] = field(default_factory=dict)
    bad_lines: list[BadLine] = field(default_factory=list)
    # Claude leaf uuids (records nothing in the file points to as parent yet): the only uuids a
    # ``summary`` record's leafUuid can name, kept instead of a row per record.
    leaves_add: list[Leaf] = field(default_factory=list)
    leaves_del: list[str] = field(default_factory=list)
    unknown_types: int = 0

    def meta(self, session_id: str) -> SessionMeta:
        """The mutable per-session metadata record (cwd, branch, version, …) for this batch."""
        m = self.session_meta.get(session_id)
        if m is None:
            m = self.session_meta[session_id] = SessionMeta(session_id)
        return m

    def add_message(
        self, key: tuple[str, str, str], request_id: str | None, model: str | None,
        ts: str | None, stop_reason: str | None, api_error: bool, usage: tuple[int, int, int, int, int],
    ) -> None:
        """Merge one assistant line into its message: usage field-wise max, last stop_reason."""
        m = self.messages.get(key)
        if m is None:
            self.messages[key] = Message(
                *key, request_id, model, ts, ts, stop_reason, 1 if stop_reason else 0,
                1 if api_error else 0, *usage)
            return
        m.request_id = m.request_id or request_id
        m.model = m.model or model
        if ts:
            m.first_ts = min(m.first_ts, ts) if m.first_ts else ts
            m.last_ts = max(m.last_ts, ts) if m.last_ts else ts
        if stop_reason:
            m.stop_reason = stop_reason
            m.usage_final = 1
        if api_error:
            m.is_api_error = 1
        tin, tout, tcr, tcc, tcc1h = usage
        m.input_tokens = max(m.input_tokens, tin)
        m.output_tokens = max(m.output_tokens, tout)
        m.cache_read_tokens = max(m.cache_read_tokens, tcr)
        m.cache_creation_tokens = max(m.cache_creation_tokens, tcc)
        m.cache_creation_1h_tokens = max(m.cache_creation_1h_tokens, tcc1h)

    def tool(self, session_id: str, tool_use_id: str) -> ToolCall:
        """The mutable row for a tool call (call and result fields merged)."""
        key = (session_id, tool_use_id)
        t = self.tool_calls.get(key)
        if t is None:
            t = self.tool_calls[key] = ToolCall(session_id, tool_use_id)
        return t

    def subagent(self, session_id: str, agent_id: str) -> Subagent:
        """The mutable row for a subagent of ``session_id``."""
        key = (session_id, agent_id)
        s = self.subagents.get(key)
        if s is None:
            s = self.subagents[key] = Subagent(session_id, agent_id)
        return s

    def bad_line(self, offset: int, line_no: int, length: int, kind: str, error: str,
                 recovered: bool, sha256: str | None) -> None:
        """Record a line that did not parse cleanly (its hash, never its content)."""
        self.bad_lines.append(BadLine(self.file_id, offset, line_no, length, kind, error,
                                      1 if recovered else 0, sha256))

    def rows(self) -> Rows:
        """Everything this batch adds, as the lists of records store.py writes."""
        return Rows(list(self.session_meta.values()), list(self.entries.values()),
                    list(self.messages.values()), list(self.tool_calls.values()),
                    list(self.subagents.values()), sorted(self.cc_summaries),
                    list(self.token_events.values()), self.bad_lines, self.leaves_add,
                    self.leaves_del)


@dataclass(frozen=True)
class ToolCallView:
    """One tool call with its result, as shown by ``archive show``."""

    tool_use_id: str
    name: str | None
    agent_id: str
    called_ts: str | None
    has_result: bool
    is_error: bool
    input_preview: str | None
    result_preview: str | None


@dataclass(frozen=True)
class TurnView:
    """One turn: a human prompt through to its final answer."""

    index: int
    started_ts: str | None
    prompt: str
    final_answer: str | None
    tool_calls: int


@dataclass(frozen=True)
class SessionView:
    """A session row plus its turns, tool calls and subagents."""

    session: dict[str, Any]
    summary: dict[str, Any] | None
    turns: list[TurnView]
    tool_calls: list[ToolCallView]
    subagents: list[dict[str, Any]]
