"""Plain data for the archive: the per-file parse context, the batch of rows a parse produces,
and the read-side views (session, turn, tool call) returned by the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    """Rows produced by parsing a range of a file; written in one transaction by store.py.

    Dicts are keyed by the natural key so repeated lines in one batch merge before the upsert.
    """

    entries: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    messages: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    tool_calls: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    subagents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    cc_summaries: set[tuple[str, str, int]] = field(default_factory=set)
    token_events: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    session_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_lines: list[tuple[Any, ...]] = field(default_factory=list)
    # Claude leaf uuids (records nothing in the file points to as parent yet): the only uuids a
    # ``summary`` record's leafUuid can name, kept instead of a row per record.
    leaves_add: list[tuple[str, str]] = field(default_factory=list)
    leaves_del: list[str] = field(default_factory=list)
    lines: int = 0
    unknown_types: int = 0

    def meta(self, session_id: str) -> dict[str, Any]:
        """The mutable per-session metadata record (cwd, branch, version, …) for this batch."""
        m = self.session_meta.get(session_id)
        if m is None:
            m = self.session_meta[session_id] = {}
        return m

    def add_message(
        self, key: tuple[str, str, str], request_id: str | None, model: str | None,
        ts: str | None, stop_reason: str | None, api_error: bool, usage: tuple[int, int, int, int],
    ) -> None:
        """Merge one assistant line into its message: usage field-wise max, last stop_reason."""
        row = self.messages.get(key)
        if row is None:
            self.messages[key] = [
                request_id, model, ts, ts, stop_reason, 1 if stop_reason else 0,
                1 if api_error else 0, *usage,
            ]
            return
        row[0] = row[0] or request_id
        row[1] = row[1] or model
        if ts:
            row[2] = min(row[2], ts) if row[2] else ts
            row[3] = max(row[3], ts) if row[3] else ts
        if stop_reason:
            row[4] = stop_reason
            row[5] = 1
        row[6] = max(row[6], 1 if api_error else 0)
        for i, v in enumerate(usage):
            if v > row[7 + i]:
                row[7 + i] = v

    def to_wire(self) -> tuple[Any, ...]:
        """The batch as plain containers (for marshal between processes)."""
        return (self.entries, self.messages, self.tool_calls, self.subagents, self.cc_summaries,
                self.token_events, self.session_meta, self.bad_lines, self.leaves_add,
                self.leaves_del, self.lines, self.unknown_types)

    @classmethod
    def from_wire(cls, t: tuple[Any, ...]) -> Batch:
        """Inverse of :meth:`to_wire`."""
        return cls(*t)

    def tool(self, session_id: str, tool_use_id: str) -> dict[str, Any]:
        """The mutable row for a tool call (call and result fields merged)."""
        key = (session_id, tool_use_id)
        t = self.tool_calls.get(key)
        if t is None:
            t = self.tool_calls[key] = {"has_call": 0, "has_result": 0, "is_error": 0}
        return t


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
