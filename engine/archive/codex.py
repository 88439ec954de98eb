"""Codex CLI rollout records → archive rows (pure: a record in, rows added to a Batch).

Rules (conversation-logs.md §8): ``event_msg`` user/agent messages duplicate ``response_item``
messages, so both channels are matched positionally (the k-th user message of either channel is
the same prompt, never matched by text). Injected context (AGENTS.md, environment_context) is
not a prompt. Calls join outputs by ``call_id``. Subagent rollouts replay the parent's prefix
(records older than their own ``session_meta``): those are skipped. Token events are keyed by
their timestamp and cumulative total, so a branch replaying its parent's events counts once.
Legacy flat rollouts (a header line then bare items) are read too.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from engine.archive.model import ANSWER, PROMPT, Batch, FileContext, pos
from engine.archive.reader import safe_text
from engine.archive.rows import Entry, SessionMeta, TokenEvent

TEXT_LIMIT = 32_000
PREVIEW_LIMIT = 600
_INJECTED = (
    "# AGENTS.md instructions", "<environment_context>", "<user_instructions>", "<INSTRUCTIONS>",
    "<permissions instructions>", "<user_shell_command>",
)
_UUID_TAIL = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.I)
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)
CALL_TYPES = frozenset({"function_call", "custom_tool_call", "local_shell_call",
                        "web_search_call", "tool_search_call"})
OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output",
                          "tool_search_call_output"})


def session_id_from_name(stem: str) -> str:
    """The session UUID at the end of a rollout file name, else the stem itself."""
    m = _UUID_TAIL.search(stem)
    return m.group(1) if m else stem


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    if isinstance(content, list):
        for item in content:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
    return "\n".join(parts)


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return safe_text(text[:limit])


def parse_record(
    obj: dict[str, Any], offset: int, line_no: int, ctx: FileContext, batch: Batch,
) -> None:
    """Add the rows for one rollout line to ``batch``; ``ctx.state`` carries the session id,
    the positional counters of both channels, the inherited-prefix cutoff and the last token
    totals across runs."""
    st = ctx.state
    sid: str = st.setdefault("sid", ctx.default_session)
    rtype = obj.get("type")
    ts = obj.get("timestamp") if isinstance(obj.get("timestamp"), str) else st.get("ts")
    if ts:
        st["ts"] = ts
    payload = obj.get("payload")
    if "payload" not in obj:
        # Legacy flat format: a header {id, timestamp, ...}, state lines, then bare items.
        if line_no == 1 and isinstance(obj.get("id"), str) and rtype is None:
            st["sid"] = sid = obj["id"]
            _times(batch.meta(sid), ts)
            return
        if obj.get("record_type") == "state":
            return
        payload, rtype = obj, "response_item"
    if not isinstance(payload, dict):
        batch.unknown_types += 1
        return
    if rtype == "session_meta":
        _session_meta(payload, ts, ctx, batch)
        return
    cutoff = st.get("inherit_before")
    if cutoff and ts and ts < cutoff:
        st["inherited"] = st.get("inherited", 0) + 1
        return
    sid = st["sid"]
    meta = batch.meta(sid)
    _times(meta, ts)
    ptype = payload.get("type")
    if rtype == "turn_context":
        if isinstance(payload.get("cwd"), str):
            meta.cwd = payload["cwd"]
        if isinstance(payload.get("model"), str) and payload["model"]:
            st["model"] = payload["model"]  # prices the token_count events that follow
        return
    if rtype == "event_msg":
        if ptype == "user_message" and isinstance(payload.get("message"), str):
            _message(sid, "u", "ev_user", payload["message"], PROMPT, offset, line_no, ts,
                     ctx, batch)
        elif ptype == "agent_message" and isinstance(payload.get("message"), str):
            _message(sid, "a", "ev_agent", payload["message"], ANSWER, offset, line_no, ts,
                     ctx, batch)
        elif ptype == "token_count":
            _tokens(payload.get("info"), sid, ts, offset, ctx, batch)
        return
    if rtype == "response_item":
        if ptype == "message":
            role = payload.get("role")
            text = _text_of(payload.get("content"))
            if role == "user":
                if text.lstrip().startswith(_INJECTED):
                    return
                _message(sid, "u", "ri_user", text, PROMPT, offset, line_no, ts, ctx, batch)
            elif role == "assistant":
                _message(sid, "a", "ri_asst", text, ANSWER, offset, line_no, ts, ctx, batch)
        elif ptype in CALL_TYPES:
            _call(payload, sid, offset, line_no, ts, ctx, batch)
        elif ptype in OUTPUT_TYPES:
            _output(payload, sid, offset, line_no, ts, ctx, batch)
        return
    if rtype not in ("compacted",):
        batch.unknown_types += 1


def _times(meta: SessionMeta, ts: str | None) -> None:
    if ts:
        if meta.first_ts is None or ts < meta.first_ts:
            meta.first_ts = ts
        if meta.last_ts is None or ts > meta.last_ts:
            meta.last_ts = ts


def _session_meta(
    payload: dict[str, Any], ts: str | None, ctx: FileContext, batch: Batch,
) -> None:
    st = ctx.state
    if isinstance(payload.get("id"), str) and payload["id"]:
        st["sid"] = payload["id"]
    meta = batch.meta(st["sid"])
    _times(meta, ts)
    if isinstance(payload.get("cwd"), str):
        meta.cwd = payload["cwd"]
    if isinstance(payload.get("cli_version"), str):
        meta.cli_version = payload["cli_version"]
    git = payload.get("git")
    if isinstance(git, dict) and isinstance(git.get("branch"), str):
        meta.git_branch = git["branch"]
    source = payload.get("source")
    parent = None
    if isinstance(source, dict):
        spawn = (source.get("subagent") or {}).get("thread_spawn") if isinstance(
            source.get("subagent"), dict) else None
        if isinstance(spawn, dict) and isinstance(spawn.get("parent_thread_id"), str):
            parent = spawn["parent_thread_id"]
            # The child replays the parent's records (older timestamps) before its own.
            started = payload.get("timestamp") if isinstance(payload.get("timestamp"), str) else ts
            if started:
                st["inherit_before"] = started
    if parent:
        meta.parent_session_id = parent


def _message(
    sid: str, prefix: str, channel: str, text: str, kind: str, offset: int, line_no: int,
    ts: str | None, ctx: FileContext, batch: Batch,
) -> None:
    st = ctx.state
    index = st.get(channel, 0)
    st[channel] = index + 1
    key = f"x:{sid}:{prefix}{index}"
    if key not in batch.entries:
        batch.entries[key] = Entry(key, sid, "", ctx.file_id, offset, line_no, kind, "codex",
                                   channel, None, None, None, ts, _clip(text), None)


def _call(
    payload: dict[str, Any], sid: str, offset: int, line_no: int, ts: str | None,
    ctx: FileContext, batch: Batch,
) -> None:
    call_id = payload.get("call_id") or payload.get("id") or f"pos:{ctx.file_id}:{offset}"
    if not isinstance(call_id, str):
        return
    name = payload.get("name") if isinstance(payload.get("name"), str) else payload.get("type")
    t = batch.tool(sid, call_id)
    t.has_call = 1
    t.agent_id = ""
    t.name = name
    t.called_ts = ts
    t.call_pos = pos(ctx.file_id, offset)
    raw = payload.get("arguments", payload.get("input", payload.get("action")))
    preview = raw if isinstance(raw, str) else orjson.dumps(raw).decode("utf-8", "replace")
    t.input_preview = _clip(preview, PREVIEW_LIMIT)
    if isinstance(raw, str):
        m = _PATCH_FILE.search(raw)
        if m:
            t.file_path = _clip(m.group(1).strip(), 500)


def _output(
    payload: dict[str, Any], sid: str, offset: int, line_no: int, ts: str | None,
    ctx: FileContext, batch: Batch,
) -> None:
    call_id = payload.get("call_id")
    if not isinstance(call_id, str):
        return
    t = batch.tool(sid, call_id)
    if not (t.has_call or t.has_result):  # the first line naming it sets the agent
        t.agent_id = ""
    t.has_result = 1
    t.result_ts = ts
    t.result_pos = pos(ctx.file_id, offset)
    out = payload.get("output")
    text = out if isinstance(out, str) else _text_of(out)
    t.result_preview = _clip(text, PREVIEW_LIMIT)
    if isinstance(out, str) and out.startswith("{") and '"exit_code"' in out:
        try:
            parsed = orjson.loads(out)
            code = (parsed.get("metadata") or {}).get("exit_code")
            if isinstance(code, int) and code != 0:
                t.is_error = 1
        except (orjson.JSONDecodeError, AttributeError):
            pass


def _usage(u: Any) -> tuple[int, int, int]:
    if not isinstance(u, dict):
        return (0, 0, 0)

    def n(k: str) -> int:
        v = u.get(k)
        return v if isinstance(v, int) else 0

    return n("input_tokens"), n("output_tokens"), n("cached_input_tokens")


def _tokens(
    info: Any, sid: str, ts: str | None, offset: int, ctx: FileContext, batch: Batch,
) -> None:
    if not isinstance(info, dict):
        return
    st = ctx.state
    total = info.get("total_token_usage")
    last = info.get("last_token_usage")
    prev = st.get("prev_total") or [0, 0, 0]
    cur = list(_usage(total)) if isinstance(total, dict) else None
    if isinstance(last, dict):
        delta = _usage(last)
    elif cur is not None:
        delta = (max(0, cur[0] - prev[0]), max(0, cur[1] - prev[1]), max(0, cur[2] - prev[2]))
    else:
        return
    if cur is not None:
        st["prev_total"] = cur
        ident = orjson.dumps([ts, total], option=orjson.OPT_SORT_KEYS)
        key = "t:" + hashlib.blake2b(ident, digest_size=12).hexdigest()
    else:
        key = f"t:{sid}:{offset}"
    if not any(delta):
        return
    if key not in batch.token_events:
        # The event's own model (newer Codex) wins over the latest turn_context's.
        model = info.get("model") if isinstance(info.get("model"), str) and info["model"] else st.get("model")
        batch.token_events[key] = TokenEvent(key, sid, ts, delta[0], delta[1], delta[2], model)
