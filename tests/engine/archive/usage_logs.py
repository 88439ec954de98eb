"""Small synthetic Claude Code and Codex logs for the usage tests, written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT = "-home-u-proj"


def assistant(sid: str, mid: str, *, uuid: str, ts: str, rid: str | None = "req_1", model: str = "claude-sonnet-4-5",
              usage: dict[str, Any] | None = None, stop: str | None = "end_turn", **extra: Any) -> dict[str, Any]:
    """One assistant line of message ``mid`` in session ``sid``."""
    rec: dict[str, Any] = {
        "type": "assistant", "sessionId": sid, "uuid": uuid, "timestamp": ts, "cwd": "/home/u/proj",
        "version": "2.1.42",
        "message": {"id": mid, "model": model, "role": "assistant", "stop_reason": stop,
                    "content": [{"type": "text", "text": "ok"}],
                    "usage": usage or {"input_tokens": 10, "output_tokens": 100, "cache_read_input_tokens": 1000,
                                       "cache_creation_input_tokens": 50}},
        **extra,
    }
    if rid is not None:
        rec["requestId"] = rid
    return rec


def write_jsonl(path: Path, records: list[dict[str, Any]], *, raw_lines: tuple[str, ...] = ()) -> Path:
    """``records`` as JSONL at ``path`` (parents created), then ``raw_lines`` verbatim."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in records] + list(raw_lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def claude_file(root: Path, sid: str, records: list[dict[str, Any]], **kw: Any) -> Path:
    """A main transcript ``<root>/projects/<PROJECT>/<sid>.jsonl``."""
    return write_jsonl(root / "projects" / PROJECT / f"{sid}.jsonl", records, **kw)


def token_count(ts: str, last: dict[str, int], total: dict[str, int], model: str | None = None) -> dict[str, Any]:
    """A Codex token_count event (``model``: the event's own ``info.model``, as newer Codex writes)."""
    info: dict[str, Any] = {"last_token_usage": last, "total_token_usage": total}
    if model is not None:
        info["model"] = model
    return {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}}


def turn_context(ts: str, model: str) -> dict[str, Any]:
    """A Codex turn_context line naming the model."""
    return {"timestamp": ts, "type": "turn_context", "payload": {"cwd": "/home/u/api", "model": model}}


def codex_file(root: Path, sid: str, records: list[dict[str, Any]]) -> Path:
    """A rollout under ``<root>/sessions/2026/03/04/`` starting with its session_meta."""
    meta = {"timestamp": "2026-03-04T09:00:00.000Z", "type": "session_meta",
            "payload": {"id": sid, "timestamp": "2026-03-04T09:00:00.000Z", "cwd": "/home/u/api",
                        "originator": "codex_cli_rs", "cli_version": "0.77.0"}}
    name = f"rollout-2026-03-04T09-00-00-{sid}.jsonl"
    return write_jsonl(root / "sessions" / "2026" / "03" / "04" / name, [meta, *records])
