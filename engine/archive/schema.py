"""Archive tables: source files, compressed raw bytes, parsed entries, messages, tool calls.

Additive only. The core tables ``conversation_archive_runs`` / ``conversation_archive_sessions``
(engine/store/schema.py) are reused; this unit adds its own tables and a few nullable columns.

Natural keys (every write is an upsert on them):

* ``archive_files``: ``path`` (plus ``(dev, inode)`` to follow moves and links);
* ``archive_raw_chunks``: ``(file_id, generation, start_offset)`` — the exact source bytes of a
  range of complete lines, compressed (``codec`` says how), so nothing is lost when Claude Code
  deletes the transcript and the parser can be rerun later;
* ``archive_entries``: ``entry_key`` (``c:<uuid>`` for Claude records, positional keys for Codex,
  a content hash for uuid-less records); first seen wins for replays from other files;
* ``archive_messages``: ``(session_id, agent_id, message_id)``; usage is the field-wise max;
* ``archive_tool_calls``: ``(session_id, tool_use_id)``; calls and results joined;
* ``archive_bad_lines``: ``(file_id, byte_offset)``; never the line content, only its hash.

``archive_fts`` (FTS5, external content over archive_entries) is filled set-wise after each
batch for rows above the previous max rowid (ten times cheaper than a per-row trigger); triggers
keep it in step when an entry's text is updated or deleted.
"""

from __future__ import annotations

from engine.archive import usage_buckets
from engine.store.migrations import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        "archive_0001_tables",
        sql=(
            """CREATE TABLE IF NOT EXISTS archive_files (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                path TEXT NOT NULL UNIQUE,
                provider TEXT NOT NULL,
                kind TEXT NOT NULL,
                dev INTEGER,
                inode INTEGER,
                size INTEGER NOT NULL DEFAULT 0,
                mtime_ns INTEGER NOT NULL DEFAULT 0,
                parsed_offset INTEGER NOT NULL DEFAULT 0,
                lines_parsed INTEGER NOT NULL DEFAULT 0,
                lines_bad INTEGER NOT NULL DEFAULT 0,
                head_hash TEXT,
                tail_hash TEXT,
                generation INTEGER NOT NULL DEFAULT 0,
                state TEXT,
                status TEXT NOT NULL DEFAULT 'new',
                error TEXT,
                first_seen TEXT NOT NULL,
                last_scanned TEXT,
                source_missing_since TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_archive_files_inode ON archive_files (dev, inode)",
            """CREATE TABLE IF NOT EXISTS archive_raw_chunks (
                file_id INTEGER NOT NULL REFERENCES archive_files(id),
                generation INTEGER NOT NULL,
                start_offset INTEGER NOT NULL,
                end_offset INTEGER NOT NULL,
                codec TEXT NOT NULL,
                data BLOB NOT NULL,
                PRIMARY KEY (file_id, generation, start_offset)
            )""",
            """CREATE TABLE IF NOT EXISTS archive_file_sessions (
                file_id INTEGER NOT NULL REFERENCES archive_files(id),
                session_id TEXT NOT NULL,
                PRIMARY KEY (file_id, session_id)
            )""",
            "CREATE INDEX IF NOT EXISTS ix_archive_file_sessions_session"
            " ON archive_file_sessions (session_id)",
            """CREATE TABLE IF NOT EXISTS archive_bad_lines (
                file_id INTEGER NOT NULL REFERENCES archive_files(id),
                byte_offset INTEGER NOT NULL,
                line_no INTEGER NOT NULL,
                length INTEGER NOT NULL,
                kind TEXT NOT NULL,
                error TEXT NOT NULL,
                recovered INTEGER NOT NULL DEFAULT 0,
                line_sha256 TEXT,
                PRIMARY KEY (file_id, byte_offset)
            )""",
            """CREATE TABLE IF NOT EXISTS archive_entries (
                entry_key TEXT PRIMARY KEY,
                session_id TEXT NOT NULL,
                agent_id TEXT NOT NULL DEFAULT '',
                file_id INTEGER NOT NULL,
                byte_offset INTEGER NOT NULL,
                line_no INTEGER NOT NULL,
                kind TEXT NOT NULL,
                rtype TEXT,
                subtype TEXT,
                uuid TEXT,
                parent_uuid TEXT,
                message_key TEXT,
                ts TEXT,
                text TEXT,
                tools TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_archive_entries_session"
            " ON archive_entries (session_id, ts, byte_offset)",
            """CREATE TABLE IF NOT EXISTS archive_messages (
                session_id TEXT NOT NULL,
                agent_id TEXT NOT NULL DEFAULT '',
                message_id TEXT NOT NULL,
                request_id TEXT,
                model TEXT,
                first_ts TEXT,
                last_ts TEXT,
                stop_reason TEXT,
                usage_final INTEGER NOT NULL DEFAULT 0,
                is_api_error INTEGER NOT NULL DEFAULT 0,
                input_tokens INTEGER NOT NULL DEFAULT 0,
                output_tokens INTEGER NOT NULL DEFAULT 0,
                cache_read_tokens INTEGER NOT NULL DEFAULT 0,
                cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (session_id, agent_id, message_id)
            )""",
            """CREATE TABLE IF NOT EXISTS archive_tool_calls (
                session_id TEXT NOT NULL,
                tool_use_id TEXT NOT NULL,
                agent_id TEXT NOT NULL DEFAULT '',
                name TEXT,
                message_key TEXT,
                input_preview TEXT,
                file_path TEXT,
                called_ts TEXT,
                result_ts TEXT,
                has_call INTEGER NOT NULL DEFAULT 0,
                has_result INTEGER NOT NULL DEFAULT 0,
                is_error INTEGER NOT NULL DEFAULT 0,
                result_preview TEXT,
                linked_agent_id TEXT,
                PRIMARY KEY (session_id, tool_use_id)
            )""",
            """CREATE TABLE IF NOT EXISTS archive_subagents (
                session_id TEXT NOT NULL,
                agent_id TEXT NOT NULL,
                file_id INTEGER,
                tool_use_id TEXT,
                agent_type TEXT,
                description TEXT,
                is_warmup INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (session_id, agent_id)
            )""",
            """CREATE TABLE IF NOT EXISTS archive_cc_summaries (
                leaf_uuid TEXT NOT NULL,
                summary TEXT NOT NULL,
                file_id INTEGER NOT NULL,
                PRIMARY KEY (leaf_uuid, summary)
            )""",
            """CREATE TABLE IF NOT EXISTS archive_token_events (
                event_key TEXT PRIMARY KEY,
                session_id TEXT NOT NULL,
                ts TEXT,
                input_tokens INTEGER NOT NULL DEFAULT 0,
                output_tokens INTEGER NOT NULL DEFAULT 0,
                cache_read_tokens INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX IF NOT EXISTS ix_archive_token_events_session"
            " ON archive_token_events (session_id)",
            "CREATE INDEX IF NOT EXISTS ix_archive_tool_calls_agent"
            " ON archive_tool_calls (session_id, agent_id)",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN status TEXT",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN entries INTEGER",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN summary_json TEXT",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN summary_hash TEXT",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN summarized_at TEXT",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN interrupted_reason TEXT",
            "ALTER TABLE conversation_archive_sessions ADD COLUMN output_tokens_final INTEGER",
        ),
    ),
    Migration(
        "archive_0002_fts",
        sql=(
            """CREATE VIRTUAL TABLE IF NOT EXISTS archive_fts USING fts5(
                text, content='archive_entries', content_rowid='rowid'
            )""",
            """CREATE TRIGGER IF NOT EXISTS archive_entries_fts_ad AFTER DELETE ON archive_entries
            WHEN old.kind IN ('prompt', 'answer') AND old.text IS NOT NULL AND old.text != ''
            BEGIN
                INSERT INTO archive_fts (archive_fts, rowid, text)
                VALUES ('delete', old.rowid, old.text);
            END""",
            """CREATE TRIGGER IF NOT EXISTS archive_entries_fts_au
            AFTER UPDATE OF text, kind ON archive_entries
            BEGIN
                INSERT INTO archive_fts (archive_fts, rowid, text)
                SELECT 'delete', old.rowid, old.text
                WHERE old.kind IN ('prompt', 'answer') AND old.text IS NOT NULL AND old.text != '';
                INSERT INTO archive_fts (rowid, text)
                SELECT new.rowid, new.text
                WHERE new.kind IN ('prompt', 'answer') AND new.text IS NOT NULL AND new.text != '';
            END""",
        ),
    ),
    Migration(
        "archive_0003_lean_entries",
        sql=(
            # Tool-call / tool-result lines no longer get an entry row: archive_tool_calls
            # holds them, with the position of the call and result lines for ordering.
            "ALTER TABLE archive_tool_calls ADD COLUMN call_pos INTEGER",
            "ALTER TABLE archive_tool_calls ADD COLUMN result_pos INTEGER",
            """CREATE TABLE IF NOT EXISTS archive_leaves (
                uuid TEXT PRIMARY KEY,
                session_id TEXT NOT NULL,
                file_id INTEGER NOT NULL
            ) WITHOUT ROWID""",
            # Archives written before: every Claude uuid may be a leaf (a superset is harmless).
            "INSERT OR IGNORE INTO archive_leaves (uuid, session_id, file_id)"
            " SELECT substr(entry_key, 3), session_id, file_id FROM archive_entries"
            " WHERE entry_key LIKE 'c:%'",
            "UPDATE archive_tool_calls SET"
            " call_pos = (SELECT (e.file_id << 40) | e.byte_offset FROM archive_entries e"
            "  WHERE e.session_id = archive_tool_calls.session_id AND e.kind = 'tool_use'"
            "  AND e.ts IS archive_tool_calls.called_ts LIMIT 1),"
            " result_pos = (SELECT (e.file_id << 40) | e.byte_offset FROM archive_entries e"
            "  WHERE e.session_id = archive_tool_calls.session_id AND e.kind = 'tool_result'"
            "  AND e.ts IS archive_tool_calls.result_ts LIMIT 1)",
            "DELETE FROM archive_entries WHERE kind IN ('tool_use', 'tool_result')",
        ),
    ),
]

MIGRATIONS.append(
    Migration(
        "archive_0004_run_owner",
        sql=(
            # The process running an archive run (PID and OS create time), so a run left
            # "running" by a killed process can be told from one another live process runs.
            "ALTER TABLE conversation_archive_runs ADD COLUMN pid INTEGER",
            "ALTER TABLE conversation_archive_runs ADD COLUMN pid_create_time REAL",
            # A run that stopped early (disk full, failed, interrupted) may have committed files
            # whose sessions' counters it never recomputed; the next run that finishes does, and
            # sets this. Runs finished before this migration need nothing.
            "ALTER TABLE conversation_archive_runs ADD COLUMN settled_at TEXT",
            "UPDATE conversation_archive_runs SET settled_at = coalesce(finished_at, started_at)"
            " WHERE status != 'running'",
            # Every run start looks for runs left running: keep that lookup off a table scan.
            "CREATE INDEX IF NOT EXISTS ix_archive_runs_running ON conversation_archive_runs (status)"
            " WHERE status = 'running'",
        ),
    ),
)

MIGRATIONS.append(
    Migration(
        "archive_0005_token_event_model",
        sql=(
            # The Codex model of a token_count event (from the rollout's latest turn_context), so usage can
            # be priced per model. Rows archived before stay NULL: `usage` lists them as model "unknown",
            # unpriced. They are not backfilled: the archive reads a file only where it grew, and the event key
            # (not the model) decides a re-parsed event is already stored.
            "ALTER TABLE archive_token_events ADD COLUMN model TEXT",
        ),
    ),
)

MIGRATIONS.append(
    Migration(
        "archive_0006_usage_dedup_index",
        sql=(
            # `usage` finds the messages stored more than once (a replay in another session file) with a streaming
            # GROUP BY over this index instead of sorting every message.
            "CREATE INDEX IF NOT EXISTS ix_archive_messages_dedup ON archive_messages (message_id, request_id)",
        ),
    ),
)

MIGRATIONS.append(
    Migration(
        "archive_0007_reparse_files_read_across_a_flush",
        sql=(
            # Before the reader fix, a file parsed more than FLUSH_BYTES (8 MiB) at a time was read with
            # bytes repeated and skipped after each flush: bogus bad lines, lost messages and usage, wrong raw
            # chunks. Forgetting such files' size and fingerprints makes the next run see them changed and parse
            # them again from the start (a new generation; the rows are upserted, the bad lines rebuilt) wherever
            # the log still exists.
            "UPDATE archive_files SET size = -1, head_hash = NULL, tail_hash = NULL WHERE parsed_offset > 8388608",
        ),
    ),
)

MIGRATIONS.append(
    Migration(
        "archive_0008_cache_write_1h",
        sql=(
            # The 1-hour part of a message's cache writes (usage.cache_creation.ephemeral_1h_input_tokens), priced
            # apart (twice the input price against 1.25 times for 5-minute writes). Rows archived before stay 0:
            # their cache writes are priced at the 5-minute rate.
            "ALTER TABLE archive_messages ADD COLUMN cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0",
        ),
    ),
)

MIGRATIONS.append(
    Migration(
        "archive_0009_usage_buckets",
        # `usage` sums this deduplicated aggregate (engine.archive.usage_buckets, kept at the end of every archive
        # run) instead of every message; filled here for archives built before.
        sql=(*usage_buckets.CREATE, *usage_buckets.FILL),
    ),
)
