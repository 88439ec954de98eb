"""Shared helpers for the archive tests: fixture paths, fresh databases, table dumps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.store.db import open_database

FIX = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "conversations"
REAL = FIX / "claude" / "real" / "projects"
EF958 = REAL / "-experiments-worktrees" / "ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl"
A7DA = REAL / "-src-deep-manifest" / "a7da6a22-facc-4fcd-8bab-f83c87862004.jsonl"
S7ACD = REAL / "-Users-dain-workspace-JSSoundRecorder" / "7acd37a8-2745-4b58-a8a9-46164b22ad9e.jsonl"
CODEX_LOG = FIX / "codex" / "claude-code-log"


def new_db(tmp_path: Path, name: str = "a.db") -> Any:
    """A fresh, migrated SQLite file under ``tmp_path``."""
    return open_database(tmp_path / name)


def manifest_refs() -> dict[str, dict[str, int]]:
    """Reference counts per fixture (relative path) parsed from MANIFEST.md."""
    refs: dict[str, dict[str, int]] = {}
    for line in (FIX / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| \d+ \| `([^`]+)` \|", line)
        if not m or "lines " not in line:
            continue
        cell = line.rstrip(" |").split("|")[-1]
        counts = {k: int(v) for k, v in re.findall(r"([a-z_]+) (\d+)", cell)}
        refs[m.group(1)] = counts
    return refs


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
