"""sql (user check): each row a read-only query returns from a SQLite file is a finding.

Row to finding: the first column is the subject, the second (if any) the title, the remaining
columns the detail as "name=value". The database is opened read-only (``mode=ro`` and
``PRAGMA query_only``), only a single SELECT/WITH statement is accepted, and a progress handler
aborts a query running longer than ``timeout_seconds``.

Results are clipped as they are read: the first ``MAX_ROWS`` rows and ``MAX_COLUMNS`` columns
are kept, each text longer than ``VALUE_CHARS`` is cut (saying how many characters were dropped),
a blob is shown as its size; rows past the cap are counted (up to ``COUNT_LIMIT``) and dropped,
and reported as the finding "output truncated".
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.checks.base import CheckContext, CheckError, CheckKind, Param, timeout_seconds
from engine.checks.command import bounded_timeout
from engine.findings import Finding
from engine.vocabulary import Severity

MAX_ROWS = 1000
MAX_COLUMNS = 50
SUBJECT_CHARS = 200
VALUE_CHARS = 500
DETAIL_CHARS = 2000
COUNT_LIMIT = 1_000_000  # rows past MAX_ROWS are counted up to this, then "at least"
TRUNCATED_SUBJECT = "output truncated"
_PROGRESS_STEPS = 1000
_COMMENTS = re.compile(r"\s*(--[^\n]*(\n|$)|/\*.*?\*/)", re.DOTALL)


def _strip_comments(text: str) -> str:
    """``text`` without leading whitespace and SQL comments."""
    while True:
        match = _COMMENTS.match(text)
        if not match:
            return text.lstrip()
        text = text[match.end():]


def query_problem(query: Any) -> str | None:
    """Why ``query`` is not acceptable (the text after "expected"), or None when it is."""
    if not isinstance(query, str) or not query.strip():
        return "a SELECT query (non-empty text)"
    body = _strip_comments(query)
    first = re.match(r"[A-Za-z]+", body)
    word = first.group(0).upper() if first else body[:10]
    if word not in ("SELECT", "WITH"):
        return f"a single SELECT or WITH query, not one starting with {word!r}"
    text = query.rstrip()
    if not text.endswith(";"):
        text += "\n;"
    if not sqlite3.complete_statement(text):
        return "one complete statement (an unclosed quote, comment or bracket?)"
    for i, char in enumerate(text):
        if char == ";" and sqlite3.complete_statement(text[: i + 1]):
            if _strip_comments(text[i + 1:]).strip(" ;"):
                return "a single statement (found more after ';')"
            break
    return None


def _database(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "the path of a SQLite file"


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were dropped (pure)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def clip_value(value: Any) -> Any:
    """A column value small enough to keep: long text clipped, a blob replaced by its size."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return clip_text(value, VALUE_CHARS)
    return value


def render(value: Any) -> str:
    """A column value as text (NULL for None, a size for blobs)."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def row_finding(names: list[str], row: tuple[Any, ...], severity: str) -> Finding:
    """The finding for one result row (pure); ``row`` holds values as clip_value left them."""
    subject = render(row[0])[:SUBJECT_CHARS]
    if len(row) > 1:
        title, rest = render(row[1]), list(zip(names[2:], row[2:], strict=False))
    else:
        title, rest = f"{names[0] if names else 'value'} = {subject}", []
    detail = ", ".join(f"{name}={render(value)}" for name, value in rest)
    return Finding(subject=subject, severity=severity, title=title, detail=clip_text(detail, DETAIL_CHARS))


@dataclass(frozen=True)
class QueryResult:
    """The kept part of a query's result and what was dropped."""

    names: list[str]
    rows: list[tuple[Any, ...]]  # at most MAX_ROWS, values clipped (clip_value)
    dropped_rows: int = 0
    counted_all: bool = True  # False: dropped_rows is a lower bound (COUNT_LIMIT or the timeout)
    dropped_columns: int = 0

    @property
    def truncated(self) -> bool:
        return bool(self.dropped_rows or self.dropped_columns)

    def truncation_detail(self) -> str:
        parts = []
        if self.dropped_rows:
            parts.append(f"{'' if self.counted_all else 'at least '}{self.dropped_rows} rows dropped")
        if self.dropped_columns:
            parts.append(f"{self.dropped_columns} columns dropped")
        return "output truncated: " + ", ".join(parts)


def _count_rest(cursor: sqlite3.Cursor, limit: int) -> tuple[int, bool]:
    """Rows left in ``cursor`` (read and dropped), up to ``limit``; False when not all were counted."""
    count = 0
    try:
        while count < limit:
            batch = cursor.fetchmany(min(1000, limit - count))
            if not batch:
                return count, True
            count += len(batch)
        return count, cursor.fetchone() is None
    except sqlite3.Error:  # the timeout interrupted the counting: what was kept stands
        return count, False


def run_query(path: Path, query: str, timeout: float) -> QueryResult:
    """The first rows of ``query`` on ``path`` opened read-only, clipped; CheckError on failure."""
    if not path.is_file():
        raise CheckError(f"database not found: {path}")
    wait = bounded_timeout(timeout)
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=wait)
    except sqlite3.Error as exc:
        raise CheckError(f"cannot open database {path}: {exc}") from exc
    deadline = time.monotonic() + wait
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    rows: list[tuple[Any, ...]] = []
    try:
        conn.execute("PRAGMA query_only = ON")
        cursor = conn.execute(query)
        names = [d[0] for d in cursor.description or []]
        for row in cursor:  # one row at a time: a huge value is clipped before the next is read
            rows.append(tuple(clip_value(v) for v in row[:MAX_COLUMNS]))
            if len(rows) == MAX_ROWS:
                break
        dropped, counted_all = _count_rest(cursor, COUNT_LIMIT) if len(rows) == MAX_ROWS else (0, True)
    except sqlite3.Error as exc:
        if time.monotonic() > deadline:
            raise CheckError(f"query timed out after {timeout:g} s on {path}") from exc
        raise CheckError(f"query failed on {path}: {exc}") from exc
    finally:
        conn.close()
    return QueryResult(names[:MAX_COLUMNS], rows, dropped, counted_all, max(0, len(names) - MAX_COLUMNS))


class SqlCheck(CheckKind):
    """A user's read-only query against any SQLite file; each returned row is a finding."""

    kind = "sql"
    description = "Each row a read-only query returns from a SQLite file is a finding."
    schedule = "every 1h"
    cooldown = "24h"
    severity = Severity.WARNING
    builtin = False
    params = {
        "database": Param(None, "Path of the SQLite file (opened read-only).", _database),
        "query": Param(None, "One SELECT (or WITH) query: column 1 = subject, 2 = title, rest = detail.",
                       query_problem),
        "timeout_seconds": Param(10.0, "Abort the query after this many seconds.", timeout_seconds),
    }

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """Run the query; one finding per row (rows repeating a subject are merged into the first)."""
        query = ctx.params.get("query")
        problem = query_problem(query)
        if problem:
            raise CheckError(f"query not allowed: expected {problem}")
        database = ctx.params.get("database")
        if _database(database):
            raise CheckError("no database configured")
        path = Path(os.path.expanduser(str(database)))
        result = run_query(path, str(query), float(ctx.params.get("timeout_seconds", 10.0)))
        findings: dict[str, Finding] = {}
        for row in result.rows:
            if row:
                finding = row_finding(result.names, row, self.severity)
                findings.setdefault(finding.subject, finding)
        if result.truncated:
            findings[TRUNCATED_SUBJECT] = Finding(
                TRUNCATED_SUBJECT, self.severity,
                f"the query returned more than {MAX_ROWS} rows or {MAX_COLUMNS} columns; the rest was dropped",
                result.truncation_detail())
        return list(findings.values())
