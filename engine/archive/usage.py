"""Token usage from the archive alone: Claude Code messages and Codex token_count events, grouped by a key.

Read-only SQL over one connection; the logs may be gone. What counts, and how it is deduplicated (the same
rules as ccusage 20, so the totals agree):

* **Claude: one API message once.** The split assistant lines of one ``message.id`` are already one
  ``archive_messages`` row with the field-wise maximum of their ``usage`` (input, output, cache creation,
  cache read): the final usage, counted once.
* **Replays across files** (a resumed session repeating earlier messages, a ``/btw`` sidechain): rows are
  deduplicated here by ``(message_id, request_id)`` -- a NULL request id keys on the message id alone --
  across sessions and agents. Of the copies, a main-conversation one (``agent_id = ''``) wins over a sidechain
  one, then the one with the larger token total.
* **Subagent files** (rows with an ``agent_id``) count, once each, under their parent session.
* **API error messages and ``<synthetic>`` models** count like any message (their usage is normally zero);
  ``<synthetic>`` is never listed as a model nor as unpriced.
* **Lines the archive records as bad but recovers** (lone surrogates, invalid UTF-8, NUL runs, spliced
  records: ``archive_bad_lines.recovered = 1``) were parsed, so their usage counts.
* **Assistant lines without a message id** carry no usage in the archive (ccusage needs the id too).
* **Codex**: one row per ``token_count`` event, the delta being ``last_token_usage`` or else the difference
  of the cumulative totals (engine.archive.codex); replayed subagent prefixes are skipped at parse time.
  Codex's ``input_tokens`` include the cached input, so input = ``input_tokens - cached_input_tokens`` and
  cache read = ``cached_input_tokens``; cache creation is 0; reasoning tokens are part of output. The model
  is the latest ``turn_context`` model before the event ("unknown" for events archived before it was kept).

Times: a message counts at its first line's timestamp, an event at its own. Days, ISO weeks (keyed by their
Monday) and months are local to the zone given; ``since`` / ``until`` are local dates, both included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from peewee import SqliteDatabase

GROUPS = ("day", "week", "month", "session", "project", "model")
AGENTS = ("claude", "codex")
UNKNOWN = "unknown"
SYNTHETIC = "<synthetic>"

# Timestamps are grouped to the minute in SQL (ISO UTC "…Z" strings) and turned into local dates here:
# a few thousand distinct minutes instead of every message, exact for any zone offset.
_MINUTE = "CASE WHEN {ts} LIKE '%Z' THEN substr({ts}, 1, 16) ELSE {ts} END"

_CLAUDE = f"""
WITH ranked AS (
    SELECT session_id, model, first_ts AS ts, input_tokens, output_tokens, cache_creation_tokens,
           cache_read_tokens,
           row_number() OVER (
               PARTITION BY message_id, coalesce(request_id, '')
               ORDER BY agent_id != '', input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens DESC
           ) AS copy
    FROM archive_messages
)
SELECT {_MINUTE.format(ts="r.ts")}, r.session_id, coalesce(s.project, s.cwd), coalesce(r.model, '{UNKNOWN}'),
       sum(r.input_tokens), sum(r.output_tokens), sum(r.cache_creation_tokens), sum(r.cache_read_tokens)
FROM ranked r LEFT JOIN conversation_archive_sessions s ON s.session_id = r.session_id
WHERE r.copy = 1 {{where}}
GROUP BY 1, 2, 3, 4
"""

_CODEX = f"""
SELECT {_MINUTE.format(ts="e.ts")}, e.session_id, coalesce(s.cwd, s.project), coalesce(e.model, '{UNKNOWN}'),
       sum(max(e.input_tokens - e.cache_read_tokens, 0)), sum(e.output_tokens), 0, sum(e.cache_read_tokens)
FROM archive_token_events e LEFT JOIN conversation_archive_sessions s ON s.session_id = e.session_id
WHERE 1 {{where}}
GROUP BY 1, 2, 3, 4
"""


@dataclass
class Tokens:
    """The four token counts of a group (mutable while summing)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def add(self, i: int, o: int, cc: int, cr: int) -> None:
        """Add one part's counts."""
        self.input_tokens += i
        self.output_tokens += o
        self.cache_creation_tokens += cc
        self.cache_read_tokens += cr

    @property
    def total(self) -> int:
        """All four counts summed."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens


@dataclass(frozen=True)
class Part:
    """The tokens of one model within one group key (the unit costs are computed on)."""

    key: str
    model: str
    tokens: Tokens


def day_bounds(since: date | None, until: date | None, zone: tzinfo) -> tuple[str | None, str | None]:
    """UTC ISO bounds ``[start, end)`` for local dates ``since`` .. ``until`` (both included)."""
    def utc(d: date) -> str:
        return datetime.combine(d, time(), zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    return (utc(since) if since else None, utc(until + timedelta(days=1)) if until else None)


def _local(stamp: str | None, zone: tzinfo, cache: dict[str, date | None]) -> date | None:
    if stamp is None:
        return None
    if stamp in cache:
        return cache[stamp]
    try:
        at = datetime.fromisoformat(stamp + ":00+00:00" if len(stamp) == 16 else stamp)
    except ValueError:
        cache[stamp] = None
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    cache[stamp] = found = at.astimezone(zone).date()
    return found


def group_key(by: str, day: date | None, session_id: str, project: str | None, model: str) -> str:
    """The value a part is grouped under: a local date, its ISO week's Monday, ``YYYY-MM``, or the session,
    project or model ("unknown" for a missing time or project)."""
    if by == "session":
        return session_id
    if by == "project":
        return project or UNKNOWN
    if by == "model":
        return model
    if day is None:
        return UNKNOWN
    if by == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if by == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def usage_parts(
    db: SqliteDatabase, *, by: str, zone: tzinfo, since: date | None = None, until: date | None = None,
    agent: str | None = None,
) -> list[Part]:
    """The archive's token usage grouped ``by`` one of GROUPS, split by model, for ``agent`` (None: both)."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    start, end = day_bounds(since, until, zone)
    queries = [q for name, q in (("claude", _CLAUDE), ("codex", _CODEX)) if agent in (None, name)]
    found: dict[tuple[str, str], Tokens] = {}
    cache: dict[str, date | None] = {}
    for sql in queries:
        alias = "r" if sql is _CLAUDE else "e"
        where, params = _where(alias, start, end)
        rows: Iterable[Any] = db.execute_sql(sql.format(where=where), params).fetchall()
        for stamp, session_id, project, model, i, o, cc, cr in rows:
            day = _local(stamp, zone, cache) if by in ("day", "week", "month") else None
            key = group_key(by, day, session_id, project, model)
            found.setdefault((key, model), Tokens()).add(i, o, cc, cr)
    return [Part(key, model, tokens) for (key, model), tokens in found.items()]


def _where(alias: str, start: str | None, end: str | None) -> tuple[str, list[str]]:
    clauses, params = [], []
    if start:
        clauses.append(f"AND {alias}.ts >= ?")
        params.append(start)
    if end:
        clauses.append(f"AND {alias}.ts < ?")
        params.append(end)
    return " ".join(clauses), params
