"""Shared helpers for the archive tests: fixture paths, fresh databases, table dumps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.units import open_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conversations"
CLAUDE = FIXTURES / "claude" / "projects"
CODEX = FIXTURES / "codex"
# Claude Code 2.1 session (split lines, errors, wrappers, an Agent call) and its subagent file.
SHOP_ID = "c0ffee00-1111-4222-8333-000000000001"
SHOP = CLAUDE / "-home-dev-shop" / f"{SHOP_ID}.jsonl"
SHOP_AGENT = CLAUDE / "-home-dev-shop" / SHOP_ID / "subagents" / "agent-a5b0c0ffee0000001.jsonl"
# Claude Code 2.0 project: summaries, a legacy agent file, a warmup agent, a zero-byte file.
UPLOADS = CLAUDE / "-home-dev-uploads"
UPLOADS_ID = "01d5e550-2222-4333-8444-000000000002"
UPLOADS_MAIN = UPLOADS / f"{UPLOADS_ID}.jsonl"
LEGACY_AGENT = UPLOADS / "agent-1e9ac7a1.jsonl"
ODD = CLAUDE / "-home-dev-odd" / "0dd00000-4444-4555-8666-000000000006.jsonl"
ROLLOUT = CODEX / "sessions/2026/03/04/rollout-2026-03-04T09-00-00-c0dec000-0000-4000-8000-000000000001.jsonl"


def new_db(tmp_path: Path, name: str = "a.db") -> Any:
    """A fresh, migrated SQLite file under ``tmp_path``."""
    return open_db(tmp_path / name)


def totals(db: Any) -> dict[str, int]:
    """Counters summed over every archived session."""
    row = db.execute_sql(
        "SELECT coalesce(sum(human_prompts),0), coalesce(sum(api_responses),0),"
        " coalesce(sum(tool_calls),0), coalesce(sum(tool_results),0),"
        " coalesce(sum(tool_errors),0) FROM conversation_archive_sessions").fetchone()
    return dict(zip(("prompts", "api", "tu", "tr", "err"), row, strict=True))


DUMP_TABLES = {
    "conversation_archive_sessions": "session_id",
    "archive_entries": "entry_key",
    "archive_messages": "session_id, agent_id, message_id",
    "archive_tool_calls": "session_id, tool_use_id",
    "archive_subagents": "session_id, agent_id",
    "archive_bad_lines": "file_id, byte_offset",
    "archive_cc_summaries": "leaf_uuid, summary",
    "archive_token_events": "event_key",
    "archive_file_sessions": "file_id, session_id",
    "archive_leaves": "uuid",
}
# Columns that legitimately record *when* a run happened, not what was archived.
RUN_COLUMNS = {"archived_at", "updated_at", "summarized_at"}


def dump(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every archived row, ordered by natural key, without run-time columns."""
    out = {}
    for table, order in DUMP_TABLES.items():
        cur = db.execute_sql(f"SELECT * FROM {table} ORDER BY {order}")
        cols = [d[0] for d in cur.description]
        keep = [i for i, c in enumerate(cols) if c not in RUN_COLUMNS and c != "id"]
        out[table] = [tuple(r[i] for i in keep) for r in cur.fetchall()]
    return out


def raw_bytes(db: Any, file_id: int, generation: int | None = None) -> bytes:
    """The archived raw bytes of a file (latest generation unless given), chunks joined."""
    from engine.archive.codec import decompress

    if generation is None:
        generation = db.execute_sql(
            "SELECT max(generation) FROM archive_raw_chunks WHERE file_id = ?", (file_id,)
        ).fetchone()[0]
    rows = db.execute_sql(
        "SELECT codec, data FROM archive_raw_chunks WHERE file_id = ? AND generation = ?"
        " ORDER BY start_offset", (file_id, generation)).fetchall()
    return b"".join(decompress(c, d) for c, d in rows)
