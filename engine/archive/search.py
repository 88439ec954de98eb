"""Full-text search (SQLite FTS5) over archived human prompts and assistant answers.

The index ``archive_fts`` is an external-content FTS5 table over ``archive_entries``, kept in
step by triggers (schema.py), so it needs no separate write path.
"""

from __future__ import annotations

from typing import Any

from peewee import SqliteDatabase


def fts_query(text: str) -> str:
    """A safe FTS5 query: every whitespace-separated word as a quoted term (implicit AND);
    a trailing ``*`` on a word keeps prefix matching."""
    terms = []
    for word in text.split():
        star = word.endswith("*") and len(word) > 1
        core = word[:-1] if star else word
        terms.append('"' + core.replace('"', '""') + '"' + ("*" if star else ""))
    return " ".join(terms)


MARKS = ("[", "]")  # around each match in a snippet (for a terminal)


def search(db: SqliteDatabase, query: str, limit: int = 20,
           marks: tuple[str, str] = MARKS) -> list[dict[str, Any]]:
    """Matches, best first: session id, title, kind (prompt/answer), timestamp and a snippet
    (each match between ``marks``)."""
    q = fts_query(query)
    if not q:
        return []
    rows = db.execute_sql(
        "SELECT e.session_id, s.title, e.kind, e.ts,"
        " snippet(archive_fts, 0, ?, ?, '…', 16)"
        " FROM archive_fts JOIN archive_entries e ON e.rowid = archive_fts.rowid"
        " LEFT JOIN conversation_archive_sessions s ON s.session_id = e.session_id"
        " WHERE archive_fts MATCH ? ORDER BY rank LIMIT ?", (*marks, q, limit)).fetchall()
    return [dict(zip(("session_id", "title", "kind", "ts", "snippet"), r, strict=True)) for r in rows]
