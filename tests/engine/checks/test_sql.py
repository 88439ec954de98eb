"""sql: rows become findings; only one read-only SELECT/WITH runs; timeouts; real SQLite files."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.checks.base import CheckContext, CheckError
from engine.checks.sql import (
    MAX_COLUMNS,
    MAX_ROWS,
    TRUNCATED_SUBJECT,
    VALUE_CHARS,
    SqlCheck,
    clip_text,
    query_problem,
    row_finding,
)


@pytest.fixture
def invoices(tmp_path) -> Path:
    """A SQLite file with three invoices, two of them overdue."""
    path = tmp_path / "finance.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, client TEXT, amount REAL, due TEXT)")
        conn.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?)", [
            (1, "Acme", 120.5, "2024-01-10"), (2, "Globex", 80.0, "2024-02-01"),
            (3, "Initech", 10.0, "2099-01-01"),
        ])
    conn.close()
    return path


def _run(database: Path | str, query: str, timeout: float = 10.0) -> list:
    ctx = CheckContext(db=None, now=datetime.now(UTC), name="overdue",
                       params={"database": str(database), "query": query, "timeout_seconds": timeout})
    return SqlCheck().evaluate(ctx)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_row_is_a_finding_with_subject_title_and_detail(invoices):
    findings = _run(invoices, "SELECT 'invoice:' || id, 'Invoice ' || id || ' from ' || client || ' overdue',"
                              " amount, due FROM invoices WHERE due < '2025-01-01' ORDER BY id")
    assert [(f.subject, f.title) for f in findings] == [
        ("invoice:1", "Invoice 1 from Acme overdue"), ("invoice:2", "Invoice 2 from Globex overdue")]
    assert findings[0].detail == "amount=120.5, due=2024-01-10"
    assert findings[0].severity == "warning"


def test_no_rows_means_no_findings(invoices):
    assert _run(invoices, "SELECT id, client FROM invoices WHERE amount > 1000") == []


def test_single_column_row_gets_a_readable_title(invoices):
    (finding,) = _run(invoices, "SELECT client FROM invoices WHERE id = 3")
    assert (finding.subject, finding.title, finding.detail) == ("Initech", "client = Initech", "")


def test_with_query_is_allowed(invoices):
    findings = _run(invoices, "WITH late AS (SELECT * FROM invoices WHERE due < '2025-01-01')"
                              " SELECT id, client FROM late")
    assert {f.subject for f in findings} == {"1", "2"}


def test_rows_repeating_a_subject_are_merged_into_the_first(invoices):
    findings = _run(invoices, "SELECT 'all', client FROM invoices ORDER BY id")
    assert [(f.subject, f.title) for f in findings] == [("all", "Acme")]


def test_null_and_blob_values_are_rendered():
    finding = row_finding(["a", "b", "c", "d"], ("x", None, None, b"\x00\x01"), "warning")
    assert (finding.title, finding.detail) == ("NULL", "c=NULL, d=<2 bytes>")


def test_write_through_with_clause_fails_and_leaves_the_file_unchanged(invoices):
    before = _digest(invoices)
    with pytest.raises(CheckError, match="readonly|read-only|query_only"):
        _run(invoices, "WITH x AS (SELECT 1) DELETE FROM invoices")
    assert _digest(invoices) == before
    with sqlite3.connect(invoices) as conn:
        assert conn.execute("SELECT count(*) FROM invoices").fetchone() == (3,)
    conn.close()


def test_select_that_would_write_is_refused_at_runtime(invoices):
    with pytest.raises(CheckError, match="not allowed"):
        _run(invoices, "UPDATE invoices SET amount = 0")
    with pytest.raises(CheckError, match="not allowed"):
        _run(invoices, "SELECT 1; DELETE FROM invoices")
    with sqlite3.connect(invoices) as conn:
        assert conn.execute("SELECT sum(amount) FROM invoices").fetchone() == (210.5,)
    conn.close()


def test_missing_database_names_the_path(tmp_path):
    missing = tmp_path / "nowhere.db"
    with pytest.raises(CheckError, match="database not found: .*nowhere.db"):
        _run(missing, "SELECT 1")
    assert not missing.exists(), "a read-only check must not create the file"


def test_sql_error_is_a_check_error_with_the_reason(invoices):
    with pytest.raises(CheckError, match="no such table: bills"):
        _run(invoices, "SELECT id FROM bills")


def test_not_a_database_is_a_check_error(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CheckError, match="junk.db.*not a database"):
        _run(junk, "SELECT name FROM sqlite_master")


def test_long_query_is_aborted_after_the_timeout(invoices):
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
               " SELECT i, 'x' FROM n WHERE i < 0")
    with pytest.raises(CheckError, match=r"timed out after 0\.2 s"):
        _run(invoices, endless, timeout=0.2)


def test_a_hundred_thousand_rows_keep_the_first_max_rows_and_count_the_rest(invoices):
    query = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 100000) SELECT i FROM n"
    findings = _run(invoices, query)
    assert len(findings) == MAX_ROWS + 1
    assert [f.subject for f in findings[:2]] == ["1", "2"] and findings[MAX_ROWS - 1].subject == str(MAX_ROWS)
    truncated = findings[-1]
    assert truncated.subject == TRUNCATED_SUBJECT
    assert truncated.detail == f"output truncated: {100000 - MAX_ROWS} rows dropped"


def test_a_ten_megabyte_text_and_blob_are_clipped_saying_how_much_was_dropped(tmp_path):
    path = tmp_path / "big.db"
    text = "y" * (10 * 1024 * 1024)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id TEXT, body TEXT, data BLOB)")
        conn.execute("INSERT INTO notes VALUES (?, ?, ?)", (text, text, b"\0" * (10 * 1024 * 1024)))
    conn.close()
    (finding,) = _run(path, "SELECT id, body, data FROM notes")
    assert finding.subject == "y" * 200
    assert finding.title == clip_text(text, VALUE_CHARS)
    assert finding.title.endswith(f"… ({len(text) - VALUE_CHARS} more characters)")
    assert finding.detail == f"data=<{10 * 1024 * 1024} bytes>"


def test_columns_past_the_cap_are_dropped_and_counted(invoices):
    columns = ", ".join(f"{i} AS c{i}" for i in range(MAX_COLUMNS + 7))
    findings = _run(invoices, f"SELECT {columns}")
    assert [f.subject for f in findings] == ["0", TRUNCATED_SUBJECT]
    assert findings[0].detail.endswith(f"c{MAX_COLUMNS - 1}={MAX_COLUMNS - 1}")
    assert findings[1].detail == "output truncated: 7 columns dropped"


@pytest.mark.parametrize("query", [
    "SELECT 1",
    "select id from t;",
    "  -- overdue ones\n  SELECT id FROM t WHERE note = 'a;b'",
    "WITH x AS (SELECT 1) SELECT * FROM x",
    "/* c */ SELECT 1 -- trailing comment",
    "SELECT 1;  -- done",
])
def test_acceptable_queries(query):
    assert query_problem(query) is None


@pytest.mark.parametrize(("query", "problem"), [
    ("", "non-empty"),
    (42, "non-empty"),
    ("DELETE FROM t", "not one starting with 'DELETE'"),
    ("PRAGMA writable_schema=1", "not one starting with 'PRAGMA'"),
    ("SELECT 1; SELECT 2", "a single statement"),
    ("SELECT 1; DROP TABLE t;", "a single statement"),
    ("SELECT 'unterminated", "one complete statement"),
])
def test_rejected_queries_say_why(query, problem):
    assert problem in (query_problem(query) or "")
