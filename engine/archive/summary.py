"""Extractive session summaries (no network): first prompt, each turn's final answer trimmed,
tools used with counts, files touched, duration and tokens.

A summary is regenerated only when the session's ``content_hash`` differs from the hash it was
built from and the session has been idle for a while, so a live session is not re-summarised
every run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson
from peewee import SqliteDatabase

from engine.archive.model import TurnView
from engine.timeutil import from_db, to_db

PROMPT_CHARS = 240
ANSWER_CHARS = 400
MAX_TURNS = 60
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def trim(text: str | None, limit: int) -> str:
    """Whitespace collapsed, ANSI escapes removed, cut to ``limit`` characters with an ellipsis."""
    if not text:
        return ""
    flat = " ".join(_ANSI.sub("", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def build_turns(db: SqliteDatabase, session_id: str, agent_id: str = "") -> list[TurnView]:
    """The turns of the main transcript (or of the subagent ``agent_id``, whose prompts are the
    task it was given): each prompt with the last answer before the next."""
    rows = db.execute_sql(
        "SELECT kind, text, ts, (file_id << 40) | byte_offset AS p FROM archive_entries"
        " WHERE session_id = ?1 AND agent_id = ?2 AND kind IN ('prompt', 'answer', ?3)"
        " UNION ALL SELECT 'tool_use', NULL, called_ts, call_pos FROM archive_tool_calls"
        " WHERE session_id = ?1 AND agent_id = ?2 AND has_call = 1 ORDER BY 3, 4",
        (session_id, agent_id, "sidechain_prompt" if agent_id else "prompt")).fetchall()
    turns: list[dict[str, Any]] = []
    for kind, text, ts, _ in rows:
        if kind in ("prompt", "sidechain_prompt"):
            turns.append({"prompt": text or "", "ts": ts, "answer": None, "tools": 0})
            continue
        if not turns:
            turns.append({"prompt": "", "ts": ts, "answer": None, "tools": 0})
        if kind == "tool_use":
            turns[-1]["tools"] += 1
        elif text and text.strip():
            turns[-1]["answer"] = text
    return [TurnView(i + 1, t["ts"], t["prompt"], t["answer"], t["tools"])
            for i, t in enumerate(turns)]


def build_summary(db: SqliteDatabase, session_id: str) -> dict[str, Any]:
    """The summary of one session as a JSON-ready dict."""
    s = db.execute_sql(
        "SELECT title, first_ts, last_ts, human_prompts, api_responses, tool_calls, tool_errors,"
        " subagents, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,"
        " output_tokens_final, cwd, git_branch FROM conversation_archive_sessions"
        " WHERE session_id = ?", (session_id,)).fetchone()
    turns = build_turns(db, session_id)
    tools = db.execute_sql(
        "SELECT coalesce(name, '?'), count(*), sum(is_error) FROM archive_tool_calls"
        " WHERE session_id = ? AND has_call = 1 GROUP BY 1 ORDER BY 2 DESC, 1", (session_id,)
    ).fetchall()
    files = [r[0] for r in db.execute_sql(
        "SELECT file_path FROM archive_tool_calls WHERE session_id = ? AND file_path IS NOT NULL"
        " GROUP BY file_path ORDER BY min(coalesce(called_ts, '')) LIMIT 100", (session_id,)
    ).fetchall()]
    away = db.execute_sql(
        "SELECT text FROM archive_entries WHERE session_id = ? AND subtype = 'away_summary'"
        " AND text IS NOT NULL ORDER BY ts DESC LIMIT 1", (session_id,)).fetchone()
    duration = None
    if s and s[1] and s[2]:
        duration = (from_db(s[2]) - from_db(s[1])).total_seconds()
    first_prompt = next((t.prompt for t in turns if t.prompt), "")
    return {
        "title": s[0] if s else None,
        "first_prompt": trim(first_prompt, PROMPT_CHARS * 2),
        "turns": [
            {"prompt": trim(t.prompt, PROMPT_CHARS), "answer": trim(t.final_answer, ANSWER_CHARS),
             "tool_calls": t.tool_calls}
            for t in turns[:MAX_TURNS]
        ],
        "turns_total": len(turns),
        "tools": [{"name": n, "count": c, "errors": e or 0} for n, c, e in tools],
        "files_touched": files,
        "duration_s": duration,
        "recap": trim(away[0], ANSWER_CHARS) if away else None,
        "counts": dict(zip(("human_prompts", "api_responses", "tool_calls", "tool_errors",
                            "subagents"), s[3:8], strict=True)) if s else {},
        "tokens": {"input": s[8], "output": s[9], "output_is_lower_bound": not s[12],
                   "cache_read": s[10], "cache_creation": s[11]} if s else {},
        "cwd": s[13] if s else None,
        "git_branch": s[14] if s else None,
    }


def render(summary: dict[str, Any]) -> str:
    """Plain-text form of a summary (stored in conversation_archive_sessions.summary)."""
    lines = []
    if summary.get("title"):
        lines.append(summary["title"])
    if summary.get("first_prompt"):
        lines.append(f"First prompt: {summary['first_prompt']}")
    for i, t in enumerate(summary.get("turns", []), 1):
        lines.append(f"{i}. {t['prompt'] or '(no prompt)'}")
        if t["answer"]:
            lines.append(f"   → {t['answer']}")
    lines += fact_lines(summary)
    return "\n".join(lines)


def fact_lines(summary: dict[str, Any]) -> list[str]:
    """The summary's facts beyond its prompts and answers: tools used, files touched, tokens, duration."""
    lines = []
    if summary.get("tools"):
        lines.append("Tools: " + ", ".join(f"{t['name']}×{t['count']}" for t in summary["tools"]))
    if summary.get("files_touched"):
        lines.append("Files: " + ", ".join(summary["files_touched"][:20]))
    tok = summary.get("tokens") or {}
    if tok:
        lower = "≥" if tok.get("output_is_lower_bound") else ""
        lines.append(f"Tokens: in {tok['input']}, out {lower}{tok['output']},"
                     f" cache read {tok['cache_read']}, cache create {tok['cache_creation']}")
    if summary.get("duration_s") is not None:
        lines.append(f"Duration: {int(summary['duration_s'])} s")
    return lines


def refresh_summaries(
    db: SqliteDatabase, now: datetime, idle_minutes: float,
    session_ids: Iterable[str] | None = None, rebuilt: set[str] | None = None,
) -> int:
    """Rebuild summaries of sessions whose content changed and that are idle (only among
    ``session_ids`` when given); return how many, and add their ids to ``rebuilt``."""
    cutoff = to_db(now - timedelta(minutes=idle_minutes))
    where = ("content_hash IS NOT NULL AND content_hash IS NOT summary_hash"
             " AND status = 'archived' AND (last_ts IS NULL OR last_ts <= ?)")
    if session_ids is None:
        ids = [r[0] for r in db.execute_sql(
            f"SELECT session_id FROM conversation_archive_sessions WHERE {where}",
            (cutoff,)).fetchall()]
    else:
        ids = [sid for sid in session_ids if db.execute_sql(
            f"SELECT 1 FROM conversation_archive_sessions WHERE session_id = ? AND {where}",
            (sid, cutoff)).fetchone()]
    with db.atomic():
        for sid in ids:
            data = build_summary(db, sid)
            db.execute_sql(
                "UPDATE conversation_archive_sessions SET summary = ?, summary_json = ?,"
                " summary_hash = content_hash, summarized_at = ? WHERE session_id = ?",
                (render(data), orjson.dumps(data).decode(), to_db(now), sid))
    if rebuilt is not None:
        rebuilt.update(ids)
    return len(ids)
