"""Conversation archive: Claude Code and Codex CLI transcripts into SQLite.

Modules: discover (roots, path shapes), reader (streaming tolerant lines), claude / codex
(record → rows), model (dataclasses), store (upserts), summary, search (FTS5), schema
(migrations), service (run_archive, list_sessions, show_session, search); the CLI is engine/cli/archive.py.
"""
