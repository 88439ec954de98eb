"""Token usage from the archive alone: Claude Code messages and Codex token_count events, grouped by a key.

Read-only SQL over one connection; the logs may be gone. What counts, and how it is deduplicated (the same
rules as ccusage 20, so the totals agree):

* **Claude: one API message once.** The split assistant lines of one ``message.id`` are already one
  ``archive_messages`` row with the field-wise maximum of their ``usage`` (input, output, cache creation,
  cache read): the final usage, counted once.
* **Replays across files** (a resumed session repeating earlier messages, a ``/btw`` sidechain): rows are
  deduplicated here by ``(message_id, request_id)`` -- a NULL request id keys on the message id alone --
  across sessions and agents. Of the copies, a main-conversation one (``agent_id = ''``) wins over a sidechain
  one, then the one with the larger token total, then the earliest; the kept copy's time and session count.
* **Subagent files** (rows with an ``agent_id``) count, once each, under their parent session.
* **API error messages and ``<synthetic>`` models** count like any message (their usage is normally zero);
  ``<synthetic>`` is never listed as a model nor as unpriced.
* **Lines the archive records as bad but recovers** (lone surrogates, invalid UTF-8, NUL runs, spliced
  records: ``archive_bad_lines.recovered = 1``) were parsed, so their usage counts.
* **Assistant lines without a message id** carry no usage in the archive (ccusage needs the id too).
* Known ccusage 20 differences, not copied (bench/usage_vs_ccusage.py shows them): ccusage skips a usage line
  written with a space after ``"usage":`` or with a timestamp of more than three fractional digits; the
  archive counts both (the JSON is the same). Real Claude Code logs have neither.
* **Codex**: one row per ``token_count`` event, the delta being ``last_token_usage`` or else the difference
  of the cumulative totals (engine.archive.codex); replayed subagent prefixes are skipped at parse time.
  Codex's ``input_tokens`` include the cached input, so input = ``input_tokens - cached_input_tokens`` and
  cache read = ``cached_input_tokens``; cache creation is 0; reasoning tokens are part of output. The model
  is the event's own ``info.model``, else the latest ``turn_context`` model before it ("unknown" for events
  archived before it was kept).

Times: a message counts at its first line's timestamp, an event at its own. Days, ISO weeks (keyed by their
Monday) and months are local to the zone given; ``since`` / ``until`` are local dates, both included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from peewee import SqliteDatabase

GROUPS = ("day", "week", "month", "session", "project", "model")
AGENTS = ("claude", "codex")
UNKNOWN = "unknown"  # (the SQL below spells it too)
SYNTHETIC = "<synthetic>"

# Time groupings sum in SQL per UTC hour ("…Z" ISO text cut to 13 characters) and turn hours into local dates here;
# in a zone whose offset is not whole hours (India, Nepal, …) per minute instead. A timestamp with its own offset
# stays whole. Other groupings sum in SQL by their column only.
_STAMP = "CASE WHEN {ts} LIKE '%Z' THEN substr({ts}, 1, {n}) ELSE {ts} END"
_HOUR, _MINUTE = 13, 16
_PROJECT = {"claude": "coalesce(s.project, s.cwd)", "codex": "coalesce(s.cwd, s.project)"}
_SESSIONS = " LEFT JOIN conversation_archive_sessions s ON s.session_id = {t}.session_id"

_CLAUDE = """
SELECT {dim}, coalesce(m.model, 'unknown'), sum(m.input_tokens), sum(m.output_tokens), sum(m.cache_creation_tokens),
       sum(m.cache_read_tokens), sum(m.cache_creation_1h_tokens)
FROM archive_messages m{join}
WHERE 1 {where}
GROUP BY 1, 2
"""

# Every copy of a (message_id, request_id) key stored more than once (replays across files, sidechains): the
# covering index ix_archive_messages_dedup makes the HAVING a streaming scan; copies are few.
_CLAUDE_COPIES = """
WITH dup AS (SELECT message_id, request_id FROM archive_messages GROUP BY message_id, request_id HAVING count(*) > 1)
SELECT m.message_id, m.request_id, m.agent_id != '', m.rowid, m.first_ts, {dim}, coalesce(m.model, 'unknown'),
       m.input_tokens, m.output_tokens, m.cache_creation_tokens, m.cache_read_tokens, m.cache_creation_1h_tokens
FROM dup JOIN archive_messages m ON m.message_id = dup.message_id AND m.request_id IS dup.request_id{join}
"""

_CODEX = """
SELECT {dim}, coalesce(m.model, 'unknown'), sum(max(m.input_tokens - m.cache_read_tokens, 0)), sum(m.output_tokens), 0,
       sum(m.cache_read_tokens), 0
FROM archive_token_events m{join}
WHERE 1 {where}
GROUP BY 1, 2
"""


@dataclass
class Tokens:
    """The four token counts of a group (mutable while summing)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_1h_tokens: int = 0  # the 1-hour part of cache_creation_tokens (its own price)

    def add(self, i: int, o: int, cc: int, cr: int, cc1h: int = 0) -> None:
        """Add one part's counts."""
        self.input_tokens += i
        self.output_tokens += o
        self.cache_creation_tokens += cc
        self.cache_read_tokens += cr
        self.cache_creation_1h_tokens += cc1h

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


def _local(stamp: str | None, zone: tzinfo, cache: dict[str, tuple[date, bool] | None]) -> tuple[date, bool] | None:
    """The local date of a UTC hour / minute stamp (or a full timestamp) and whether the zone's offset there is
    whole hours (an hour stamp is exact only then); None for no or an unreadable time."""
    if stamp is None:
        return None
    if stamp in cache:
        return cache[stamp]
    suffix = {_HOUR: ":00:00+00:00", _MINUTE: ":00+00:00"}.get(len(stamp), "")
    try:
        at = datetime.fromisoformat(stamp + suffix)
    except ValueError:
        cache[stamp] = None
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    local = at.astimezone(zone)
    offset = local.utcoffset()
    cache[stamp] = found = (local.date(), offset is None or offset.total_seconds() % 3600 == 0)
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
    bounds = day_bounds(since, until, zone)
    parts = _parts(db, by, zone, bounds, agent, _HOUR)
    if parts is None:  # the zone's offset is not whole hours somewhere: sum per minute
        parts = _parts(db, by, zone, bounds, agent, _MINUTE)
    assert parts is not None
    return [Part(key, model, tokens) for (key, model), tokens in parts.items()]


def _dim(by: str, source: str, precision: int) -> tuple[str, str]:
    """The SQL expression a grouping sums by, and the join it needs."""
    if by in ("day", "week", "month"):
        return _STAMP.format(ts="m.ts" if source == "codex" else "m.first_ts", n=precision), ""
    if by == "session":
        return "m.session_id", ""
    if by == "project":
        return _PROJECT[source], _SESSIONS.format(t="m")
    return "''", ""


def _parts(
    db: SqliteDatabase, by: str, zone: tzinfo, bounds: tuple[str | None, str | None], agent: str | None,
    precision: int,
) -> dict[tuple[str, str], Tokens] | None:
    found: dict[tuple[str, str], Tokens] = {}
    cache: dict[str, tuple[date, bool] | None] = {}
    replayed: set[tuple[str, str]] = set()

    def key_of(dim: Any, model: str) -> str | None:
        day = None
        if by in ("day", "week", "month"):
            local = _local(dim, zone, cache)
            if local is not None:
                if precision == _HOUR and not local[1]:
                    return None
                day = local[0]
        return group_key(by, day, dim, dim, model)

    for source in AGENTS:
        if agent not in (None, source):
            continue
        dim, join = _dim(by, source, precision)
        ts = "m.ts" if source == "codex" else "m.first_ts"
        where, params = _where(ts, *bounds)
        sql = _CODEX if source == "codex" else _CLAUDE
        for d, model, i, o, cc, cr, cc1h in db.execute_sql(sql.format(dim=dim, join=join, where=where), params):
            key = key_of(d, model)
            if key is None:
                return None
            found.setdefault((key, model), Tokens()).add(i, o, cc, cr, cc1h)
        if source == "claude":
            for key, model, i, o, cc, cr, cc1h in _losing_copies(db, dim, join, bounds):
                k = key_of(key, model)
                if k is None:
                    return None
                found.setdefault((k, model), Tokens()).add(-i, -o, -cc, -cr, -cc1h)
                replayed.add((k, model))
    # a group left with nothing but replays it did not keep (a resumed session's first lines) is no group
    return {k: t for k, t in found.items() if k not in replayed or t.total}


def _losing_copies(
    db: SqliteDatabase, dim: str, join: str, bounds: tuple[str | None, str | None],
) -> list[tuple[Any, str, int, int, int, int, int]]:
    """The copies of replayed messages that do not count and that the sums included (their time in bounds): of
    the copies of one key, a main one (agent_id '') wins over a sidechain one, then the larger total, then the
    earliest, then the first archived."""
    copies: dict[tuple[str, str | None], list[tuple[Any, ...]]] = {}
    for row in db.execute_sql(_CLAUDE_COPIES.format(dim=dim, join=join)):
        copies.setdefault((row[0], row[1]), []).append(row)
    start, end = bounds
    losers = []
    for group in copies.values():
        group.sort(key=lambda r: (r[2], -(r[7] + r[8] + r[9] + r[10]), r[4] is None, r[4] or "", r[3]))
        for r in group[1:]:
            ts = r[4]
            if (start and (ts is None or ts < start)) or (end and (ts is None or ts >= end)):
                continue
            losers.append((r[5], r[6], r[7], r[8], r[9], r[10], r[11]))
    return losers


def _where(ts: str, start: str | None, end: str | None) -> tuple[str, list[str]]:
    clauses, params = [], []
    if start:
        clauses.append(f"AND {ts} >= ?")
        params.append(start)
    if end:
        clauses.append(f"AND {ts} < ?")
        params.append(end)
    return " ".join(clauses), params
