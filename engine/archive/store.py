"""Database writes for the archive: executemany batches in one transaction, upserts only.

Every statement is ``INSERT … ON CONFLICT`` on the table's natural key, so writing the same
batch twice changes nothing, and a session's counters are recomputed from its child rows (never
incremented), so an incremental ingest ends in the same state as a single pass.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from typing import Any

import orjson
from peewee import SqliteDatabase

from engine.archive.ingest import CODEC, compress, resolve
from engine.archive.model import Batch
from engine.timeutil import from_db, to_db

try:
    import zstandard as _zstd
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None  # type: ignore[assignment]

__all__ = ["CODEC", "compress", "decompress"]


def decompress(codec: str, data: bytes) -> bytes:
    """The raw bytes of a stored chunk."""
    if codec == "zlib":
        return zlib.decompress(data)
    if codec == "zstd":
        if _zstd is None:
            raise RuntimeError("zstandard is needed to read this archive chunk")
        return _zstd.ZstdDecompressor().decompress(data)
    raise ValueError(f"unknown codec {codec!r}")


def norm_ts(ts: str | None) -> str | None:
    """A source timestamp in the stored format (None when absent or unparseable)."""
    if not ts:
        return None
    try:
        return to_db(from_db(ts))
    except ValueError:
        return None


# Entries are written in two steps: a plain insert that skips existing keys (the cold-ingest
# case: every row is new), then, only when some key already existed, the update those rows get
# (first seen wins across files; a reparse of the same file refreshes position and text). Same
# result as one ``ON CONFLICT DO UPDATE ... WHERE`` upsert, which cost twice as much per row
# (1.0 s vs 0.44 s for 54k rows in the bench) although it almost never updates anything.
_ENTRY_SQL = (
    "INSERT INTO archive_entries (entry_key, session_id, agent_id, file_id, byte_offset, line_no,"
    " kind, rtype, subtype, uuid, parent_uuid, message_key, ts, text, tools)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(entry_key) DO NOTHING"
)
# ?1 key, ?2 byte_offset, ?3 line_no, ?4 kind, ?5 subtype, ?6 ts, ?7 text, ?8 tools, ?9 file_id
_ENTRY_UPDATE_SQL = (
    "UPDATE archive_entries SET byte_offset = ?2, line_no = ?3, kind = ?4, subtype = ?5,"
    " ts = ?6, text = ?7, tools = ?8 WHERE entry_key = ?1 AND file_id = ?9"
    " AND (byte_offset != ?2 OR kind != ?4 OR text IS NOT ?7 OR tools IS NOT ?8)"
)
_MESSAGE_SQL = (
    "INSERT INTO archive_messages (session_id, agent_id, message_id, request_id, model, first_ts,"
    " last_ts, stop_reason, usage_final, is_api_error, input_tokens, output_tokens,"
    " cache_read_tokens, cache_creation_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(session_id, agent_id, message_id) DO UPDATE SET"
    " request_id=coalesce(request_id, excluded.request_id), model=coalesce(model, excluded.model),"
    " first_ts=min(coalesce(first_ts, excluded.first_ts), coalesce(excluded.first_ts, first_ts)),"
    " last_ts=max(coalesce(last_ts, excluded.last_ts), coalesce(excluded.last_ts, last_ts)),"
    " stop_reason=coalesce(excluded.stop_reason, stop_reason),"
    " usage_final=max(usage_final, excluded.usage_final),"
    " is_api_error=max(is_api_error, excluded.is_api_error),"
    " input_tokens=max(input_tokens, excluded.input_tokens),"
    " output_tokens=max(output_tokens, excluded.output_tokens),"
    " cache_read_tokens=max(cache_read_tokens, excluded.cache_read_tokens),"
    " cache_creation_tokens=max(cache_creation_tokens, excluded.cache_creation_tokens)"
)
_TOOL_SQL = (
    "INSERT INTO archive_tool_calls (session_id, tool_use_id, agent_id, name, message_key,"
    " input_preview, file_path, called_ts, result_ts, has_call, has_result, is_error,"
    " result_preview, linked_agent_id, call_pos, result_pos)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(session_id, tool_use_id) DO UPDATE SET"
    " agent_id=CASE WHEN excluded.has_call THEN excluded.agent_id ELSE agent_id END,"
    " name=coalesce(excluded.name, name), message_key=coalesce(excluded.message_key, message_key),"
    " input_preview=coalesce(excluded.input_preview, input_preview),"
    " file_path=coalesce(excluded.file_path, file_path),"
    " called_ts=coalesce(excluded.called_ts, called_ts),"
    " result_ts=coalesce(excluded.result_ts, result_ts),"
    " has_call=max(has_call, excluded.has_call), has_result=max(has_result, excluded.has_result),"
    " is_error=max(is_error, excluded.is_error),"
    " result_preview=coalesce(excluded.result_preview, result_preview),"
    " linked_agent_id=coalesce(excluded.linked_agent_id, linked_agent_id),"
    " call_pos=coalesce(excluded.call_pos, call_pos),"
    " result_pos=coalesce(excluded.result_pos, result_pos)"
)
_SUBAGENT_SQL = (
    "INSERT INTO archive_subagents (session_id, agent_id, file_id, tool_use_id, agent_type,"
    " description, is_warmup) VALUES (?,?,?,?,?,?,?)"
    " ON CONFLICT(session_id, agent_id) DO UPDATE SET file_id=coalesce(excluded.file_id, file_id),"
    " tool_use_id=coalesce(excluded.tool_use_id, tool_use_id),"
    " agent_type=coalesce(excluded.agent_type, agent_type),"
    " description=coalesce(excluded.description, description),"
    " is_warmup=max(is_warmup, excluded.is_warmup)"
)
# ?1 session, ?2 source, ?3 parent, ?4 project, ?5 cwd, ?6 weak cwd (subagent), ?7 branch,
# ?8 version, ?9 first_ts, ?10 last_ts, ?11 now
_SESSION_SQL = (
    "INSERT INTO conversation_archive_sessions (session_id, source, parent_session_id, project,"
    " cwd, git_branch, cli_version, first_ts, last_ts, archived_at, updated_at, status)"
    " VALUES (?1, ?2, ?3, ?4, coalesce(?5, ?6), ?7, ?8, ?9, ?10, ?11, ?11, 'archived')"
    " ON CONFLICT(session_id) DO UPDATE SET"
    " parent_session_id=coalesce(?3, parent_session_id), project=coalesce(project, ?4),"
    " cwd=CASE WHEN ?5 IS NOT NULL THEN ?5 ELSE coalesce(cwd, ?6) END,"
    " git_branch=coalesce(?7, git_branch), cli_version=coalesce(?8, cli_version),"
    " first_ts=CASE WHEN first_ts IS NULL OR ?9 < first_ts THEN coalesce(?9, first_ts)"
    " ELSE first_ts END,"
    " last_ts=CASE WHEN last_ts IS NULL OR ?10 > last_ts THEN coalesce(?10, last_ts)"
    " ELSE last_ts END,"
    " updated_at=?11"
)


def existing_sessions(db: SqliteDatabase, session_ids: Iterable[str]) -> set[str]:
    """Which of ``session_ids`` already have an archive row."""
    ids = list(session_ids)
    found: set[str] = set()
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        marks = ",".join("?" * len(part))
        found.update(r[0] for r in db.execute_sql(
            f"SELECT session_id FROM conversation_archive_sessions WHERE session_id IN ({marks})",
            part).fetchall())
    return found


def write_batch(
    db: SqliteDatabase, file_id: int, provider: str, batch: Batch,
    chunks: list[tuple[int, int, int, str, Any]], file_update: dict[str, Any], now: str,
) -> None:
    """Write one parsed range of a file and advance the file's offset, all in one transaction.

    ``chunks`` are ``(generation, start, end, codec, compressed bytes)`` (see ingest.py).
    """
    cur = db.cursor()
    if chunks:
        rows = [(file_id, g, s, e, codec, resolve(blob)) for g, s, e, codec, blob in chunks]
        cur.executemany(
            "INSERT INTO archive_raw_chunks (file_id, generation, start_offset, end_offset, codec,"
            " data) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING", rows)
    if batch.session_meta:
        srows = []
        for sid, m in batch.session_meta.items():
            srows.append((
                sid, provider, m.get("parent_session_id"), m.get("project"), m.get("cwd"),
                m.get("cwd_weak"), m.get("git_branch"), m.get("cli_version"),
                norm_ts(m.get("first_ts")), norm_ts(m.get("last_ts")), now,
            ))
        cur.executemany(_SESSION_SQL, srows)
        cur.executemany(
            "INSERT INTO archive_file_sessions (file_id, session_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING", [(file_id, sid) for sid in batch.session_meta])
    if batch.entries:
        mark = db.execute_sql("SELECT coalesce(max(rowid), 0) FROM archive_entries").fetchone()[0]
        erows = list(batch.entries.values())
        cur.executemany(_ENTRY_SQL, erows)
        if cur.rowcount != len(erows):  # some keys existed: update those (new rows match)
            cur.executemany(_ENTRY_UPDATE_SQL, [
                (r[0], r[4], r[5], r[6], r[8], r[12], r[13], r[14], r[3]) for r in erows])
        # New rows get rowids above the old maximum: index their text in one statement.
        db.execute_sql(
            "INSERT INTO archive_fts (rowid, text) SELECT rowid, text FROM archive_entries"
            " WHERE rowid > ? AND kind IN ('prompt', 'answer') AND text IS NOT NULL"
            " AND text != ''", (mark,))
    if batch.messages:
        _insert_then_merge(db, "archive_messages", "session_id, agent_id, message_id", 3,
                           _MESSAGE_SQL, [(*k, *v) for k, v in batch.messages.items()])
    if batch.tool_calls:
        _insert_then_merge(db, "archive_tool_calls", "session_id, tool_use_id", 2, _TOOL_SQL, [
            (sid, tid, t.get("agent_id", ""), t.get("name"), t.get("message_key"),
             t.get("input_preview"), t.get("file_path"), t.get("called_ts"), t.get("result_ts"),
             t["has_call"], t["has_result"], t["is_error"], t.get("result_preview"),
             t.get("linked_agent_id"), t.get("call_pos"), t.get("result_pos"))
            for (sid, tid), t in batch.tool_calls.items()])
    if batch.subagents:
        cur.executemany(_SUBAGENT_SQL, [
            (sid, aid, s.get("file_id"), s.get("tool_use_id"), s.get("agent_type"),
             s.get("description"), s.get("is_warmup", 0))
            for (sid, aid), s in batch.subagents.items()])
    if batch.cc_summaries:
        cur.executemany(
            "INSERT INTO archive_cc_summaries (leaf_uuid, summary, file_id) VALUES (?,?,?)"
            " ON CONFLICT DO NOTHING", sorted(batch.cc_summaries))
    if batch.leaves_del:
        cur.executemany("DELETE FROM archive_leaves WHERE uuid = ? AND file_id = ?",
                        [(u, file_id) for u in batch.leaves_del])
    if batch.leaves_add:
        cur.executemany(
            "INSERT INTO archive_leaves (uuid, session_id, file_id) VALUES (?,?,?)"
            " ON CONFLICT DO NOTHING", [(u, sid, file_id) for u, sid in batch.leaves_add])
    if batch.token_events:
        cur.executemany(
            "INSERT INTO archive_token_events (event_key, session_id, ts, input_tokens,"
            " output_tokens, cache_read_tokens) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            list(batch.token_events.values()))
    if batch.bad_lines:
        cur.executemany(
            "INSERT INTO archive_bad_lines (file_id, byte_offset, line_no, length, kind, error,"
            " recovered, line_sha256) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT(file_id, byte_offset) DO UPDATE SET line_no=excluded.line_no,"
            " length=excluded.length, kind=excluded.kind, error=excluded.error,"
            " recovered=excluded.recovered, line_sha256=excluded.line_sha256",
            [(file_id, *b) for b in batch.bad_lines])
    update_file(db, file_id, file_update)


def _insert_then_merge(
    db: SqliteDatabase, table: str, key_cols: str, nkey: int, upsert_sql: str,
    rows: list[tuple[Any, ...]],
) -> None:
    """Write ``rows`` with the result of ``upsert_sql`` at a fraction of its cost.

    A plain insert that skips existing keys first (the cold-ingest case: nearly every row is
    new), then, only when ``rowcount`` shows that some keys existed, the full upsert for just
    those rows: the rows this insert added have rowids above the old maximum, so the keys
    missing among them are the ones that existed. ``ON CONFLICT DO UPDATE`` for every row cost
    about twice a plain insert although it almost never updated anything.
    """
    cur = db.cursor()
    mark = db.execute_sql(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0]
    head, _, _ = upsert_sql.partition(" ON CONFLICT")
    cur.executemany(head + " ON CONFLICT DO NOTHING", rows)
    if cur.rowcount == len(rows):
        return
    added = set(db.execute_sql(f"SELECT {key_cols} FROM {table} WHERE rowid > ?",
                               (mark,)).fetchall())
    rest = [r for r in rows if r[:nkey] not in added]
    if rest:
        cur.executemany(upsert_sql, rest)


def update_file(db: SqliteDatabase, file_id: int, fields: dict[str, Any]) -> None:
    """Set columns of one archive_files row."""
    if not fields:
        return
    cols = ", ".join(f"{k} = ?" for k in fields)
    db.execute_sql(f"UPDATE archive_files SET {cols} WHERE id = ?", (*fields.values(), file_id))


def insert_file(db: SqliteDatabase, path: str, provider: str, kind: str, now: str) -> int:
    """Create (or find) the archive_files row for ``path`` and return its id."""
    db.execute_sql(
        "INSERT INTO archive_files (path, provider, kind, first_seen) VALUES (?,?,?,?)"
        " ON CONFLICT(path) DO NOTHING", (path, provider, kind, now))
    row = db.execute_sql("SELECT id FROM archive_files WHERE path = ?", (path,)).fetchone()
    return int(row[0])


def content_hash(values: Iterable[Any]) -> str:
    """Short hash of a session's counters, used to decide when to re-summarise."""
    return hashlib.blake2b(orjson.dumps(list(values)), digest_size=10).hexdigest()


def recompute_session(db: SqliteDatabase, session_id: str, now: str) -> None:
    """Recompute one session's counters, title and interruption state from its child rows."""
    src_row = db.execute_sql(
        "SELECT source FROM conversation_archive_sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    source = src_row[0] if src_row else "claude"
    e = db.execute_sql(
        "SELECT count(*), coalesce(sum(kind = 'prompt' AND agent_id = ''), 0),"
        " coalesce(sum(kind = 'answer'), 0) FROM archive_entries WHERE session_id = ?",
        (session_id,)).fetchone()
    m = db.execute_sql(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
        " coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_creation_tokens), 0),"
        " coalesce(min(usage_final), 1) FROM archive_messages"
        " WHERE session_id = ? AND is_api_error = 0", (session_id,)).fetchone()
    t = db.execute_sql(
        "SELECT coalesce(sum(has_call), 0), coalesce(sum(has_result), 0),"
        " coalesce(sum(has_result AND is_error), 0) FROM archive_tool_calls WHERE session_id = ?",
        (session_id,)).fetchone()
    subagents = db.execute_sql(
        "SELECT count(*) FROM archive_subagents WHERE session_id = ? AND is_warmup = 0",
        (session_id,)).fetchone()[0]
    api, tin, tout, tcr, tcc, final = m
    if source == "codex":
        api = e[2]
        tk = db.execute_sql(
            "SELECT coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
            " coalesce(sum(cache_read_tokens), 0) FROM archive_token_events"
            " WHERE session_id = ?", (session_id,)).fetchone()
        tin, tout, tcr, tcc, final = tk[0], tk[1], tk[2], 0, 1
    title = _title(db, session_id)
    reason = interrupted_reason(db, session_id)
    status = "no_messages" if e[0] == 0 and api == 0 and t[0] == 0 else "archived"
    last = db.execute_sql(
        "SELECT last_ts FROM conversation_archive_sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    chash = content_hash([e[0], e[1], api, *t, subagents, tin, tout, tcr, tcc,
                          last[0] if last else None])
    db.execute_sql(
        "UPDATE conversation_archive_sessions SET human_prompts = ?, api_responses = ?,"
        " tool_calls = ?, tool_results = ?, tool_errors = ?, subagents = ?, input_tokens = ?,"
        " output_tokens = ?, cache_read_tokens = ?, cache_creation_tokens = ?,"
        " output_tokens_final = ?, entries = ?, title = ?, interrupted_reason = ?, status = ?,"
        " content_hash = ?, updated_at = ? WHERE session_id = ? AND content_hash IS NOT ?",
        (e[1], api, t[0], t[1], t[2], subagents, tin, tout, tcr, tcc, final, e[0], title,
         reason, status, chash, now, session_id, chash))


def _title(db: SqliteDatabase, session_id: str) -> str | None:
    row = db.execute_sql(
        "SELECT text FROM archive_entries WHERE session_id = ? AND kind = 'title'"
        " AND text IS NOT NULL ORDER BY file_id DESC, byte_offset DESC LIMIT 1", (session_id,)
    ).fetchone()
    if row:
        return str(row[0])
    row = db.execute_sql(
        "SELECT s.summary FROM archive_cc_summaries s JOIN archive_leaves l"
        " ON l.uuid = s.leaf_uuid WHERE l.session_id = ?"
        " ORDER BY s.file_id DESC LIMIT 1",
        (session_id,)).fetchone()
    if row:
        return str(row[0])
    row = db.execute_sql(
        "SELECT text FROM archive_entries WHERE session_id = ? AND kind = 'prompt'"
        " AND agent_id = '' ORDER BY ts, file_id, byte_offset LIMIT 1", (session_id,)).fetchone()
    if row and row[0]:
        first = " ".join(str(row[0]).split())
        return first[:80] + ("…" if len(first) > 80 else "")
    return None


def interrupted_reason(db: SqliteDatabase, session_id: str) -> str | None:
    """Why the main transcript stopped mid-turn, or None when its last turn completed.

    The last of the main chain's prompt / answer / tool call / tool result decides (entries,
    and tool calls by the position of their call and result lines): a tool call whose result
    never came, or a prompt that got no answer.
    """
    row = db.execute_sql(
        "SELECT kind FROM ("
        " SELECT kind, ts, (file_id << 40) | byte_offset AS p FROM archive_entries"
        " WHERE session_id = ?1 AND agent_id = ''"
        " AND kind IN ('prompt', 'answer', 'interrupt', 'api_error')"
        " UNION ALL SELECT 'tool_use', called_ts, call_pos FROM archive_tool_calls"
        " WHERE session_id = ?1 AND agent_id = '' AND has_call = 1"
        " UNION ALL SELECT 'tool_result', result_ts, result_pos FROM archive_tool_calls"
        " WHERE session_id = ?1 AND agent_id = '' AND has_result = 1)"
        " ORDER BY ts DESC, p DESC LIMIT 1", (session_id,)).fetchone()
    if row is None:
        return None
    if row[0] == "prompt":
        return "prompt without answer"
    if row[0] == "tool_use":
        pending = db.execute_sql(
            "SELECT name FROM archive_tool_calls WHERE session_id = ? AND agent_id = ''"
            " AND has_call = 1 AND has_result = 0 ORDER BY called_ts DESC LIMIT 1",
            (session_id,)).fetchone()
        if pending:
            return f"tool call without result: {pending[0] or '?'}"
    return None
