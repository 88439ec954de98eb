"""Named, additive migrations on a real SQLite file."""

from __future__ import annotations

import sqlite3

import pytest

from engine.store.db import connect
from engine.store.migrations import Migration, applied_names, apply_migrations, join, pending
from engine.units import MIGRATIONS, open_db

SEED_TABLES = {
    "daemon_state", "conversation_archive_runs", "conversation_archive_sessions", "life_domains",
    "life_goals", "life_sub_goals", "life_goal_dependencies", "life_goal_metrics", "heartbeat_log",
    "discovered_events", "onboarding_state", "personality_config",
}


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_empty_file_migrates_to_head_with_seed_tables(tmp_path):
    path = tmp_path / "wk.db"
    db = open_db(path)
    assert pending(db, MIGRATIONS) == []
    assert applied_names(db) == {m.name for m in MIGRATIONS}
    db.close()
    assert SEED_TABLES | {"applications", "work_sessions", "job_runs", "heartbeat_gaps"} <= _tables(path)


def test_pragmas_are_set_on_every_connection(tmp_path):
    db = open_db(tmp_path / "wk.db")
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 15000


def test_rerun_applies_nothing(tmp_path):
    path = tmp_path / "wk.db"
    open_db(path).close()
    db = connect(path)
    assert apply_migrations(db, MIGRATIONS) == []


def test_failing_migration_rolls_back_and_stays_pending(tmp_path):
    db = open_db(tmp_path / "wk.db")
    broken = Migration(
        "test_0001_broken",
        sql=("CREATE TABLE half_done (id INTEGER)", "INSERT INTO no_such_table VALUES (1)"),
    )
    with pytest.raises(Exception, match="no_such_table"):
        apply_migrations(db, [*MIGRATIONS, broken])
    assert "half_done" not in {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master")}
    assert [m.name for m in pending(db, [*MIGRATIONS, broken])] == ["test_0001_broken"]


def test_older_schema_upgrades_keeping_every_row(tmp_path):
    path = tmp_path / "wk.db"
    migrations = MIGRATIONS
    old = migrations[:3]  # a database from before heartbeat_log existed
    db = connect(path)
    apply_migrations(db, old)
    for i in range(500):
        db.execute_sql("INSERT INTO life_domains (name, created_at) VALUES (?, '2026-01-01T00:00:00Z')",
                       (f"domain {i}",))
        db.execute_sql("INSERT INTO life_goals (domain_id, title, created_at) VALUES (?, ?, '2026-01-01')",
                       (i + 1, f"goal {i}"))
    db.close()
    db = open_db(path)
    assert db.execute_sql("SELECT count(*) FROM life_domains").fetchone()[0] == 500
    assert db.execute_sql("SELECT count(*) FROM life_goals").fetchone()[0] == 500
    assert pending(db, MIGRATIONS) == []
    assert "heartbeat_log" in _tables(path)


def test_two_processes_migrating_at_once_both_succeed(tmp_path):
    """Instances racing at startup: the IMMEDIATE transaction serialises the migrations."""
    import subprocess
    import sys

    path = tmp_path / "wk.db"
    code = ("import sys; from pathlib import Path; from engine.units import open_db;"
            " open_db(Path(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)]) for _ in range(8)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8  # none fails with "database is locked"
    db = connect(path)
    assert pending(db, MIGRATIONS) == []
    counts = db.execute_sql("SELECT count(*), count(DISTINCT name) FROM schema_migrations").fetchone()
    assert counts[0] == counts[1]


def test_the_store_applies_only_the_migrations_it_is_given(tmp_path):
    from engine.store.db import open_database

    only = Migration("test_0001_only", sql=("CREATE TABLE only_this (id INTEGER)",))
    db = open_database(tmp_path / "wk.db", [only])
    assert applied_names(db) == {"test_0001_only"}
    db.close()
    assert _tables(tmp_path / "wk.db") == {"schema_migrations", "only_this"}


def test_joining_lists_that_repeat_a_name_is_refused():
    with pytest.raises(RuntimeError, match="duplicate migration names: \\['a'\\]"):
        join([Migration("a")], [Migration("b"), Migration("a")])


def test_opening_the_store_imports_no_feature():
    import subprocess
    import sys

    code = ("import sys; import engine.store.db, engine.store.migrations, engine.store.schema;"
            " print(sorted(m for m in sys.modules if m.startswith('engine.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert all(m.startswith(("engine.store", "engine.timeutil", "engine.privatefile")) for m in eval(out)), out
