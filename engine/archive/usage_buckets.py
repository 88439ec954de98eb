"""The deduplicated token-usage aggregate ``archive_usage_buckets``, kept by the archive for `usage`.

One row per agent x session x model x quarter hour of UTC (a message at its first line's time, a Codex event at
its own): the counted tokens and how many messages count (``messages``) or are replays that do not
(``replays``). Quarter hours make every zone's local day exact (all offsets in use are whole quarter hours);
a timestamp that is not ``YYYY-MM-DDTHH:MM:SS…Z`` is kept whole (``quarter = 0``), as the row-level query did.

The dedup (engine.archive.usage documents the rules) is across sessions: of the copies of one
``(message_id, request_id)`` key, a main-conversation one (``agent_id = ''``) wins over a sidechain one, then
the larger token total, then the earliest, then the first archived. :func:`refresh` therefore rebuilds the
sessions given AND every session holding a copy of one of their keys; it runs at the end of each archive run,
in the transaction that recomputes the sessions' counters, and the migration ``archive_0009_usage_buckets``
fills it for archives built before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peewee import SqliteDatabase


CREATE = (
    """CREATE TABLE IF NOT EXISTS archive_usage_buckets (
        agent TEXT NOT NULL,
        session_id TEXT NOT NULL,
        stamp TEXT,
        quarter INTEGER NOT NULL,
        model TEXT NOT NULL,
        messages INTEGER NOT NULL,
        replays INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_creation_tokens INTEGER NOT NULL,
        cache_creation_1h_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_archive_usage_buckets_session ON archive_usage_buckets (session_id)",
)

_ISO_Z = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'"
_QUARTER = "({ts} GLOB " + _ISO_Z + ")"
# "YYYY-MM-DDTHH:MM" with the minutes floored to 00/15/30/45, or the timestamp whole
_STAMP = ("CASE WHEN " + _QUARTER + " THEN substr({ts}, 1, 14) || printf('%02d', substr({ts}, 15, 2) / 15 * 15)"
          " ELSE {ts} END")
_COLUMNS = ("agent, session_id, stamp, quarter, model, messages, replays, input_tokens, output_tokens,"
            " cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens")

# The winning copy of each key among the rows ``{rows}`` selects (every copy of each key they hold), summed for
# the sessions ``{sessions}`` selects.
_CLAUDE = f"""
INSERT INTO archive_usage_buckets ({_COLUMNS})
SELECT 'claude', session_id, stamp, quarter, model, sum(win), sum(1 - win), sum(win * i), sum(win * o), sum(win * cc),
       sum(win * cc1h), sum(win * cr)
FROM (
    SELECT m.session_id, {_STAMP.format(ts="m.first_ts")} AS stamp, {_QUARTER.format(ts="m.first_ts")} AS quarter,
           coalesce(m.model, 'unknown') AS model, m.input_tokens AS i, m.output_tokens AS o,
           m.cache_creation_tokens AS cc, m.cache_creation_1h_tokens AS cc1h, m.cache_read_tokens AS cr,
           row_number() OVER (
               PARTITION BY m.message_id, m.request_id
               ORDER BY m.agent_id != '',
                        m.input_tokens + m.output_tokens + m.cache_creation_tokens + m.cache_read_tokens DESC,
                        m.first_ts IS NULL, m.first_ts, m.rowid) = 1 AS win
    FROM archive_messages m {{rows}}
) WHERE 1 {{sessions}}
GROUP BY session_id, stamp, quarter, model
"""

_CODEX = f"""
INSERT INTO archive_usage_buckets ({_COLUMNS})
SELECT 'codex', m.session_id, {_STAMP.format(ts="m.ts")}, {_QUARTER.format(ts="m.ts")}, coalesce(m.model, 'unknown'),
       count(*), 0, sum(max(m.input_tokens - m.cache_read_tokens, 0)), sum(m.output_tokens), 0, 0,
       sum(m.cache_read_tokens)
FROM archive_token_events m WHERE 1 {{sessions}}
GROUP BY 2, 3, 4, 5
"""

_IN_SCOPE = "AND session_id IN (SELECT session_id FROM temp.usage_scope)"
_COPIES_OF_SCOPE = (
    "WHERE EXISTS (SELECT 1 FROM archive_messages k WHERE k.message_id = m.message_id"
    " AND k.request_id IS m.request_id AND k.session_id IN (SELECT session_id FROM temp.usage_scope))")

FILL = (  # the whole aggregate from the archive's rows (the migration; an empty table first)
    "DELETE FROM archive_usage_buckets",
    _CLAUDE.format(rows="", sessions=""),
    _CODEX.format(sessions=""),
)


def refresh(db: SqliteDatabase, session_ids: Iterable[str]) -> None:
    """Rebuild the aggregate of ``session_ids`` and of every session sharing a replayed message with them (the
    caller holds the transaction)."""
    ids = sorted(set(session_ids))
    if not ids:
        return
    db.execute_sql("CREATE TEMP TABLE IF NOT EXISTS usage_scope (session_id TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute_sql("DELETE FROM temp.usage_scope")
    cur = db.cursor()
    cur.executemany("INSERT OR IGNORE INTO temp.usage_scope VALUES (?)", [(s,) for s in ids])
    db.execute_sql(
        "INSERT OR IGNORE INTO temp.usage_scope SELECT DISTINCT c.session_id FROM archive_messages m"
        " JOIN archive_messages c ON c.message_id = m.message_id AND c.request_id IS m.request_id"
        " WHERE m.session_id IN (SELECT session_id FROM temp.usage_scope)")
    db.execute_sql(f"DELETE FROM archive_usage_buckets WHERE 1 {_IN_SCOPE}")
    db.execute_sql(_CLAUDE.format(rows=_COPIES_OF_SCOPE, sessions=_IN_SCOPE))
    db.execute_sql(_CODEX.format(sessions=_IN_SCOPE.replace("session_id", "m.session_id", 1)))
    db.execute_sql("DELETE FROM temp.usage_scope")
