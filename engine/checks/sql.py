"""sql (user check): each row a read-only query returns from a SQLite file is a finding.

Row to finding: the first column is the subject, the second (if any) the title, the remaining
columns the detail as "name=value". The database is opened read-only (``mode=ro`` and
``PRAGMA query_only``), only a single SELECT/WITH statement is accepted, and a progress handler
aborts a query running longer than ``timeout_seconds``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from engine.checks.base import CheckContext, CheckError, CheckKind, Finding, Param, timeout_seconds

MAX_ROWS = 1000
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


def render(value: Any) -> str:
    """A column value as text (NULL for None, a size for blobs)."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def row_finding(names: list[str], row: tuple[Any, ...], severity: str) -> Finding:
    """The finding for one result row (pure)."""
    subject = render(row[0])
    if len(row) > 1:
        title, rest = render(row[1]), list(zip(names[2:], row[2:], strict=False))
    else:
        title, rest = f"{names[0] if names else 'value'} = {subject}", []
    detail = ", ".join(f"{name}={render(value)}" for name, value in rest)
    return Finding(subject=subject, severity=severity, title=title, detail=detail)


def run_query(path: Path, query: str, timeout: float) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of ``query`` on ``path`` opened read-only; CheckError on failure."""
    if not path.is_file():
        raise CheckError(f"database not found: {path}")
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise CheckError(f"cannot open database {path}: {exc}") from exc
    deadline = time.monotonic() + timeout
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        conn.execute("PRAGMA query_only = ON")
        cursor = conn.execute(query)
        names = [d[0] for d in cursor.description or []]
        rows = cursor.fetchmany(MAX_ROWS + 1)
    except sqlite3.Error as exc:
        if time.monotonic() > deadline:
            raise CheckError(f"query timed out after {timeout:g} s on {path}") from exc
        raise CheckError(f"query failed on {path}: {exc}") from exc
    finally:
        conn.close()
    if len(rows) > MAX_ROWS:
        raise CheckError(f"query returned more than {MAX_ROWS} rows; narrow it (each row is an alert)")
    return names, rows


class SqlCheck(CheckKind):
    """A user's read-only query against any SQLite file; each returned row is a finding."""

    kind = "sql"
    description = "Each row a read-only query returns from a SQLite file is a finding."
    schedule = "every 1h"
    cooldown = "24h"
    severity = "warning"
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
        names, rows = run_query(path, str(query), float(ctx.params.get("timeout_seconds", 10.0)))
        findings: dict[str, Finding] = {}
        for row in rows:
            if row:
                finding = row_finding(names, tuple(row), self.severity)
                findings.setdefault(finding.subject, finding)
        return list(findings.values())
