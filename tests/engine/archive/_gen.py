"""Generated Claude-Code-shaped transcripts for tests that need volume, not real fixtures.

Each session is a file of complete prompt / answer / tool-call / tool-result turns with unique
ids. Text is random base64, so it hardly compresses: a few MB of transcript need a few MB of
database, which is what the disk-full tests rely on.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path


def _rec(sid: str, i: int, parent: str | None, body: dict) -> str:
    env = {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": "/home/u/p",
           "sessionId": sid, "version": "2.1.114", "gitBranch": "main", "uuid": f"{sid}-u{i}",
           "timestamp": f"2026-04-18T13:{i // 60 % 60:02d}:{i % 60:02d}.000Z"}
    return json.dumps(env | body, separators=(",", ":"))


def _noise(n: int) -> str:
    return base64.b64encode(os.urandom(n * 3 // 4)).decode()


def session_lines(sid: str, size: int, text_bytes: int = 6000) -> list[str]:
    """Lines of one session of about ``size`` bytes (whole turns, at least one)."""
    out: list[str] = []
    total = 0
    i = 0
    parent: str | None = None
    turn = 0
    while total < size or not out:
        tid = f"toolu_{sid[:8]}{turn}"
        mid = f"msg_{sid[:8]}{turn}"
        recs = [
            {"type": "user", "message": {"role": "user", "content": f"prompt {turn} " + _noise(text_bytes)}},
            {"type": "assistant", "requestId": f"req_{mid}", "message": {
                "id": mid, "type": "message", "role": "assistant", "model": "claude-opus-4-7",
                "content": [{"type": "tool_use", "id": tid, "name": "Read",
                             "input": {"file_path": "/home/u/p/a.py"}}],
                "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 30}}},
            {"type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tid, "content": _noise(text_bytes // 4)}]}},
            {"type": "assistant", "requestId": f"req_{mid}f", "message": {
                "id": f"{mid}f", "type": "message", "role": "assistant", "model": "claude-opus-4-7",
                "content": [{"type": "text", "text": f"answer {turn} " + _noise(text_bytes)}],
                "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 400}}},
        ]
        for body in recs:
            line = _rec(sid, i, parent, body)
            out.append(line)
            total += len(line) + 1
            parent, i = f"{sid}-u{i}", i + 1
        turn += 1
    return out


def write_sessions(root: Path, count: int, size: int, project: str = "-home-u-p") -> list[Path]:
    """``count`` session files of about ``size`` bytes each under ``root/project``; their paths."""
    proj = root / project
    proj.mkdir(parents=True, exist_ok=True)
    paths = []
    for _ in range(count):
        sid = str(uuid.uuid4())
        path = proj / f"{sid}.jsonl"
        path.write_text("\n".join(session_lines(sid, size)) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
