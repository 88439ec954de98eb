"""Named, additive migrations, applied in order at startup, each in its own transaction.

A migration is never destructive: new tables, new nullable (or SQL-defaulted) columns, new
indexes. Applied names are recorded in ``schema_migrations``; a failing migration rolls back
and stays pending. The store knows no feature: each unit declares its own list, and the
composition root (``engine.units.MIGRATIONS``) joins them in a fixed order with ``join()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from peewee import SqliteDatabase

from engine.timeutil import to_db, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One schema step: SQL statements and/or a callable run inside a transaction."""

    name: str
    sql: tuple[str, ...] = ()
    func: Callable[[SqliteDatabase], None] | None = None

    def apply(self, db: SqliteDatabase) -> None:
        for statement in self.sql:
            db.execute_sql(statement)
        if self.func is not None:
            self.func(db)


def join(*lists: Sequence[Migration]) -> tuple[Migration, ...]:
    """The lists in application order, as one; raises RuntimeError when a name repeats."""
    found = [m for migrations in lists for m in migrations]
    names = [m.name for m in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"duplicate migration names: {sorted(dupes)}")
    return tuple(found)


def applied_names(db: SqliteDatabase) -> set[str]:
    """Names already recorded as applied."""
    _ensure_table(db)
    return {row[0] for row in db.execute_sql("SELECT name FROM schema_migrations").fetchall()}


def pending(db: SqliteDatabase, migrations: Sequence[Migration]) -> list[Migration]:
    """Migrations not yet applied, in order."""
    done = applied_names(db)
    return [m for m in migrations if m.name not in done]


def apply_migrations(db: SqliteDatabase, migrations: Sequence[Migration]) -> list[str]:
    """Apply every pending migration, each in an IMMEDIATE transaction; return the names applied.

    A failure rolls that migration back, leaves it pending and re-raises.
    """
    applied: list[str] = []
    for migration in pending(db, migrations):
        with db.atomic("IMMEDIATE"):
            # Re-check inside the write lock: another process may have migrated meanwhile.
            row = db.execute_sql(
                "SELECT 1 FROM schema_migrations WHERE name = ?", (migration.name,)
            ).fetchone()
            if row:
                continue
            migration.apply(db)
            db.execute_sql(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (migration.name, to_db(utcnow())),
            )
        log.info("applied migration %s", migration.name)
        applied.append(migration.name)
    return applied


def _ensure_table(db: SqliteDatabase) -> None:
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
