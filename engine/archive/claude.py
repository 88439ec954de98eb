"""Claude Code records → archive rows (pure: a record in, rows added to a Batch).

Counting rules (conversation-logs.md §7): a *human prompt* is a user record that is not meta,
not a compact summary, not a sidechain, has text or an image and no tool_result, and is not a
command/caveat wrapper or an interrupt marker. *API responses* are distinct ``message.id`` values
(synthetic API errors excluded); *tool calls* distinct ``tool_use.id``; results joined by
``tool_use_id``. Sessions are keyed by the ``sessionId`` inside records, not the file name.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from engine.archive.model import (
    ANSWER,
    API_ERROR,
    PROMPT,
    TOOL_RESULT,
    TOOL_USE,
    Batch,
    FileContext,
    pos,
)
from engine.archive.reader import safe_text
from engine.archive.rows import CcSummary, Entry

TEXT_LIMIT = 32_000
PREVIEW_LIMIT = 600

# Record types that carry nothing the archive indexes (their raw bytes are still kept).
SKIP_TYPES = frozenset({
    "file-history-snapshot", "progress", "queue-operation", "last-prompt", "permission-mode",
    "attachment", "agent-name", "agent-setting", "agent-color", "mode", "pr-link",
    "bridge-session", "worktree-state",
})
TITLE_TYPES = frozenset({"ai-title", "custom-title"})
_WRAPPERS = (
    "<command-name>", "<command-message>", "<command-args>", "<local-command-stdout>",
    "<local-command-stderr>", "<local-command-caveat>", "<bash-input>", "<bash-stdout>",
    "<bash-stderr>", "<task-notification>", "<user-prompt-submit-hook>",
    "Caveat: The messages below were generated",
)
_INTERRUPT = "[Request interrupted by user"
_FILE_KEYS = ("file_path", "notebook_path", "path")


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _clip(text: str, limit: int) -> str:
    return safe_text(text if len(text) <= limit else text[:limit])


def classify_user_text(text: str) -> str:
    """'command', 'interrupt', 'meta' (wrappers) or 'prompt' for the text of a user record."""
    t = text.lstrip()
    if t.startswith(_INTERRUPT):
        return "interrupt"
    if t.startswith(("<command-name>", "<command-message>")):
        return "command"
    if t.startswith(_WRAPPERS):
        return "meta"
    return PROMPT


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content[:PREVIEW_LIMIT]
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
        return "\n".join(parts)[:PREVIEW_LIMIT]
    return ""


MAX_LEAVES = 512
_NO_ENTRY = frozenset({"thinking", TOOL_USE, TOOL_RESULT})


def track_leaf(state: dict[str, Any], uuid: str | None, parent: str | None, sid: str) -> None:
    """Keep ``state["leaves"]`` = the file's records no later record names as parent."""
    leaves = state.get("leaves")
    if leaves is None:
        leaves = state["leaves"] = {}
    if parent is not None and parent in leaves:
        del leaves[parent]
    if uuid is not None:
        leaves[uuid] = sid
        if len(leaves) > MAX_LEAVES:  # a chain through unparsed (progress) records: keep newest
            del leaves[next(iter(leaves))]


def _hash_key(session_id: str, obj: dict[str, Any]) -> str:
    digest = hashlib.blake2b(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS), digest_size=12)
    return f"h:{session_id}:{digest.hexdigest()}"


def parse_record(
    obj: dict[str, Any], offset: int, line_no: int, ctx: FileContext, batch: Batch,
) -> None:
    """Add the rows for one Claude Code record to ``batch``; ``ctx.state`` carries the session
    of uuid-less records and the last timestamp (inherited by records without one)."""
    state = ctx.state
    rtype = obj.get("type")
    sid = obj.get("sessionId")
    if isinstance(sid, str) and sid:
        state["sid"] = sid
    else:
        sid = state.get("sid") or ctx.default_session
    ts = obj.get("timestamp")
    if isinstance(ts, str):
        state["ts"] = ts
    else:
        ts = state.get("ts")
    if rtype in SKIP_TYPES:
        return
    if rtype == "summary":
        leaf, text = obj.get("leafUuid"), obj.get("summary")
        if isinstance(leaf, str) and isinstance(text, str):
            batch.cc_summaries.add(CcSummary(leaf, _clip(text, 2000), ctx.file_id))
        return

    sidechain = bool(obj.get("isSidechain"))
    agent_raw = obj.get("agentId")
    agent_id = ""
    if sidechain:
        agent_id = agent_raw if isinstance(agent_raw, str) and agent_raw else (
            ctx.agent_id or "sidechain")
    meta = batch.meta(sid)
    if sidechain:
        # Subagents may run in a worktree: their cwd only fills a gap, never wins.
        v = obj.get("cwd")
        if isinstance(v, str) and v:
            meta.cwd_weak = v
    else:
        v = obj.get("cwd")
        if isinstance(v, str) and v:
            meta.cwd = v
        v = obj.get("gitBranch")
        if isinstance(v, str) and v:
            meta.git_branch = v
        v = obj.get("version")
        if isinstance(v, str) and v:
            meta.cli_version = v
    if ctx.project and meta.project is None:
        meta.project = ctx.project
    if ts:
        if meta.first_ts is None or ts < meta.first_ts:
            meta.first_ts = ts
        if meta.last_ts is None or ts > meta.last_ts:
            meta.last_ts = ts
    if agent_id and agent_id != "sidechain":
        sub = batch.subagent(sid, agent_id)
        if ctx.kind in ("subagent", "legacy_agent"):
            sub.file_id = ctx.file_id

    uuid = obj.get("uuid") if isinstance(obj.get("uuid"), str) else None
    parent = obj.get("parentUuid") if isinstance(obj.get("parentUuid"), str) else None
    track_leaf(state, uuid, parent, sid)
    key = f"c:{uuid}" if uuid else None
    subtype = obj.get("subtype") if isinstance(obj.get("subtype"), str) else None
    where = pos(ctx.file_id, offset)

    if rtype == "assistant" or (rtype is None and _usage_only(obj)):
        kind, text, tools, mkey = _assistant(obj, sid, agent_id, ts, where, batch)
    elif rtype == "user":
        kind, text, tools, mkey = _user(obj, sid, agent_id, ts, sidechain, where, batch)
    elif rtype == "system":
        kind, mkey, tools = "system", None, None
        content = obj.get("content")
        text = _clip(content, TEXT_LIMIT) if (
            subtype == "away_summary" and isinstance(content, str)) else None
    elif rtype in TITLE_TYPES:
        kind, mkey, tools = "title", None, None
        title = next((obj[k] for k in ("customTitle", "aiTitle", "title")
                      if isinstance(obj.get(k), str)), None)
        text = _clip(title, 500) if title else None
    else:
        batch.unknown_types += 1
        kind, text, tools, mkey = "unknown", None, None, None
    if kind in _NO_ENTRY:
        # Thinking has nothing to index; tool calls and results live in archive_tool_calls
        # (with this line's position). The raw line is kept either way.
        return
    if key is None:
        key = _hash_key(sid, obj)
    if key not in batch.entries:
        batch.entries[key] = Entry(
            key, sid, agent_id, ctx.file_id, offset, line_no, kind,
            rtype if isinstance(rtype, str) else None, subtype, uuid, parent, mkey, ts, text, tools)


def _usage_only(obj: dict[str, Any]) -> bool:
    """A line without ``type`` that still carries an API response's usage (ccusage's own fixtures have them;
    ccusage counts them): archived as an assistant message so its tokens count."""
    msg = obj.get("message")
    return isinstance(msg, dict) and isinstance(msg.get("id"), str) and isinstance(msg.get("usage"), dict)


def _assistant(
    obj: dict[str, Any], sid: str, agent_id: str, ts: str | None, where: int, batch: Batch,
) -> tuple[str, str | None, str | None, str | None]:
    msg = obj.get("message")
    if not isinstance(msg, dict):
        return "malformed", None, None, None
    mid = msg.get("id") if isinstance(msg.get("id"), str) else None
    model = msg.get("model") if isinstance(msg.get("model"), str) else None
    api_error = bool(obj.get("isApiErrorMessage")) or model == "<synthetic>"
    content = msg.get("content")
    texts: list[str] = []
    tools: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif btype == "tool_use" and isinstance(block.get("id"), str):
                name = block.get("name") if isinstance(block.get("name"), str) else None
                tools.append(name or "?")
                t = batch.tool(sid, block["id"])
                t.has_call = 1
                t.agent_id = agent_id
                t.name = name
                t.message_key = mid
                t.called_ts = ts
                t.call_pos = where
                inp = block.get("input")
                if isinstance(inp, dict):
                    t.input_preview = safe_text(
                        orjson.dumps(inp)[:PREVIEW_LIMIT].decode("utf-8", "replace"))
                    for fk in _FILE_KEYS:
                        if isinstance(inp.get(fk), str):
                            t.file_path = safe_text(inp[fk])
                            break
    if mid:
        raw_usage = msg.get("usage")
        usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
        raw_buckets = usage.get("cache_creation")
        buckets: dict[str, Any] = raw_buckets if isinstance(raw_buckets, dict) else {}
        stop = msg.get("stop_reason") if isinstance(msg.get("stop_reason"), str) else None
        batch.add_message(
            (sid, agent_id, mid),
            obj.get("requestId") if isinstance(obj.get("requestId"), str) else None,
            model, ts, stop, api_error,
            (_int(usage.get("input_tokens")), _int(usage.get("output_tokens")),
             _int(usage.get("cache_read_input_tokens")),
             _int(usage.get("cache_creation_input_tokens")), _int(buckets.get("ephemeral_1h_input_tokens"))),
        )
    text = _clip("\n".join(texts), TEXT_LIMIT) if texts else None
    if api_error:
        kind = API_ERROR
    elif tools:
        kind = TOOL_USE
    elif text and text.strip():
        kind = ANSWER
    else:
        kind = "thinking"
    return kind, text, ",".join(tools) if tools else None, mid


def _user(
    obj: dict[str, Any], sid: str, agent_id: str, ts: str | None, sidechain: bool, where: int,
    batch: Batch,
) -> tuple[str, str | None, str | None, str | None]:
    msg = obj.get("message")
    content = msg.get("content") if isinstance(msg, dict) else msg
    texts: list[str] = []
    has_image = False
    results = 0
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif btype == "image":
                has_image = True
            elif btype == "tool_result" and isinstance(block.get("tool_use_id"), str):
                results += 1
                t = batch.tool(sid, block["tool_use_id"])
                if not (t.has_call or t.has_result):  # the first line naming it sets the agent
                    t.agent_id = agent_id
                t.has_result = 1
                t.result_ts = ts
                t.result_pos = where
                if block.get("is_error") is True:
                    t.is_error = 1
                t.result_preview = safe_text(_result_text(block.get("content")))
                linked = _linked_agent(obj, sidechain)
                if linked:
                    t.linked_agent_id = linked
                    batch.subagent(sid, linked).tool_use_id = block["tool_use_id"]
    text = "\n".join(texts)
    if results:
        return TOOL_RESULT, None, None, None
    if obj.get("isCompactSummary"):
        return "compact_summary", _clip(text, TEXT_LIMIT), None, None
    if obj.get("isMeta"):
        return "meta", None, None, None
    if not text.strip() and not has_image:
        return "empty", None, None, None
    kind = classify_user_text(text) if text.strip() else PROMPT
    if sidechain:
        if agent_id and text.strip() == "Warmup":
            batch.subagent(sid, agent_id).is_warmup = 1
        kind = "sidechain_prompt" if kind == PROMPT else kind
    if kind in ("meta", "interrupt"):
        return kind, _clip(text, 500), None, None
    return kind, _clip(text, TEXT_LIMIT), None, None


def _linked_agent(obj: dict[str, Any], sidechain: bool) -> str | None:
    """The subagent a parent's Task/Agent tool result points to (toolUseResult.agentId)."""
    tur = obj.get("toolUseResult")
    if isinstance(tur, dict) and isinstance(tur.get("agentId"), str) and tur["agentId"]:
        return str(tur["agentId"])
    if not sidechain and isinstance(obj.get("agentId"), str) and obj["agentId"]:
        return str(obj["agentId"])
    return None
