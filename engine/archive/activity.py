"""The archive over time, read-only: when sessions started, when the person prompted, and token
use (Claude messages and Codex token-count events) since a moment; the caller groups them into days
of the person's zone."""

from __future__ import annotations

from datetime import datetime

from peewee import SqliteDatabase

from engine.timeutil import to_db


def session_starts(db: SqliteDatabase, since: datetime) -> list[str]:
    """The start times of the sessions (not subagents) that started at or after ``since``."""
    return [str(r[0]) for r in db.execute_sql(
        "SELECT first_ts FROM conversation_archive_sessions WHERE first_ts >= ? AND parent_session_id IS NULL",
        (to_db(since),)).fetchall()]


def prompt_times(db: SqliteDatabase, since: datetime) -> list[str]:
    """The times of the human prompts (main conversations, not subagents) at or after ``since``.

    Only sessions still active since then are looked at (by the session index on entries)."""
    stamp = to_db(since)
    return [str(r[0]) for r in db.execute_sql(
        "SELECT e.ts FROM conversation_archive_sessions s JOIN archive_entries e"
        " ON e.session_id = s.session_id AND e.ts >= ?"
        " WHERE s.last_ts >= ? AND s.parent_session_id IS NULL AND e.kind = 'prompt' AND e.agent_id = ''",
        (stamp, stamp)).fetchall()]


def token_rows(db: SqliteDatabase, since: datetime) -> list[tuple[str, int, int, int, int]]:
    """(time, input, output, cache read, cache creation) tokens of each Claude response and each
    Codex token-count event at or after ``since``."""
    stamp = to_db(since)
    rows = db.execute_sql(
        "SELECT m.first_ts, m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_creation_tokens"
        " FROM conversation_archive_sessions s JOIN archive_messages m ON m.session_id = s.session_id"
        " WHERE s.last_ts >= ? AND m.first_ts >= ?"
        " UNION ALL SELECT t.ts, t.input_tokens, t.output_tokens, t.cache_read_tokens, 0"
        " FROM conversation_archive_sessions s JOIN archive_token_events t ON t.session_id = s.session_id"
        " WHERE s.last_ts >= ? AND t.ts >= ?", (stamp, stamp, stamp, stamp)).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]
