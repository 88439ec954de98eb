"""Token usage from the archive alone: Claude Code messages and Codex token_count events, grouped by a key.

Read-only SQL over one connection (peewee's or a plain sqlite3 one); the logs may be gone. The sums come from the
aggregate engine.archive.usage_buckets keeps at each archive run, where the dedup below is applied.
What counts, and how it is deduplicated (the same rules as ccusage 20, so the totals agree):

* **Claude: one API message once.** The split assistant lines of one ``message.id`` are already one
  ``archive_messages`` row with the field-wise maximum of their ``usage`` (input, output, cache creation,
  cache read): the final usage, counted once.
* **Replays across files** (a resumed session repeating earlier messages, a ``/btw`` sidechain): rows are
  deduplicated (in the aggregate) by ``(message_id, request_id)`` -- a NULL request id keys on the message id alone --
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

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peewee import SqliteDatabase

    Database = SqliteDatabase | sqlite3.Connection

GROUPS = ("day", "week", "month", "session", "project", "model")
AGENTS = ("claude", "codex")
UNKNOWN = "unknown"  # (the SQL below spells it too)
SYNTHETIC = "<synthetic>"

# Every query sums the deduplicated aggregate engine.archive.usage_buckets keeps (per quarter hour of UTC, agent,
# session and model) and turns its stamps into local dates here. A project is its session's, joined at query time.
_PROJECT = {"claude": "coalesce(s.project, s.cwd)", "codex": "coalesce(s.cwd, s.project)"}
_SESSIONS = " LEFT JOIN conversation_archive_sessions s ON s.session_id = u.session_id"
_SUMS = """
SELECT {dim}, u.model, sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_creation_tokens),
       sum(u.cache_read_tokens), sum(u.cache_creation_1h_tokens), sum(u.replays)
FROM archive_usage_buckets u{join}
WHERE u.agent = ? {where}
GROUP BY 1, 2
"""
_QUARTER = 16  # length of a quarter-hour stamp, "YYYY-MM-DDTHH:MM"


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


def _local(stamp: str | None, zone: tzinfo, cache: dict[str, date | None]) -> date | None:
    """The local date of a UTC quarter-hour stamp (or a whole timestamp); None for no or an unreadable time."""
    if stamp is None:
        return None
    if stamp in cache:
        return cache[stamp]
    try:
        at = datetime.fromisoformat(stamp + ":00+00:00" if len(stamp) == _QUARTER else stamp)
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
    db: Database, *, by: str, zone: tzinfo, since: date | None = None, until: date | None = None,
    agent: str | None = None,
) -> list[Part]:
    """The archive's token usage grouped ``by`` one of GROUPS, split by model, for ``agent`` (None: both).
    ``db``: the peewee database or a plain sqlite3 connection (the lean `usage` path)."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    execute = db.execute if isinstance(db, sqlite3.Connection) else db.execute_sql
    where, bounds = _where(*day_bounds(since, until, zone))
    found: dict[tuple[str, str], Tokens] = {}
    replayed: dict[tuple[str, str], int] = {}
    cache: dict[str, date | None] = {}
    for source in AGENTS:
        if agent not in (None, source):
            continue
        dim, join = _dim(by, source)
        for d, model, i, o, cc, cr, cc1h, replays in execute(_SUMS.format(dim=dim, join=join, where=where),
                                                               [source, *bounds]):
            day = _local(d, zone, cache) if by in ("day", "week", "month") else None
            key = (group_key(by, day, d, d, model), model)
            found.setdefault(key, Tokens()).add(i, o, cc, cr, cc1h)
            replayed[key] = replayed.get(key, 0) + replays
    # a group left with nothing but replays it did not keep (a resumed session's first lines) is no group
    return [Part(key, model, t) for (key, model), t in found.items() if t.total or not replayed[(key, model)]]


def _dim(by: str, source: str) -> tuple[str, str]:
    """The SQL expression a grouping sums by, and the join it needs."""
    if by in ("day", "week", "month"):
        return "u.stamp", ""
    if by == "session":
        return "u.session_id", ""
    if by == "project":
        return _PROJECT[source], _SESSIONS
    return "''", ""


def _where(start: str | None, end: str | None) -> tuple[str, list[str]]:
    """The time bounds on the aggregate: a quarter-hour stamp against the bound's first 16 characters (bounds are
    whole quarter hours), a whole timestamp against the whole bound, as the messages' own times compared."""
    clauses, params = [], []
    for bound, op in ((start, ">="), (end, "<")):
        if bound:
            clauses.append(f"AND CASE WHEN u.quarter THEN u.stamp {op} ? ELSE u.stamp {op} ? END")
            params += [bound[:_QUARTER], bound]
    return " ".join(clauses), params
