"""Named, additive migrations, applied in order at startup, each in its own transaction.

A migration is never destructive: new tables, new nullable (or SQL-defaulted) columns, new
indexes. Applied names are recorded in ``schema_migrations``; a failing migration rolls back
and stays pending. Units (archive, alerts, delivery, api) contribute their own lists, all
gathered in ``all_migrations()`` in a fixed order.
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


def all_migrations() -> list[Migration]:
    """Every known migration in application order (core first, then each unit's own)."""
    from engine.store.schema import CORE_MIGRATIONS

    found: list[Migration] = list(CORE_MIGRATIONS)
    for loader in _unit_loaders():
        found.extend(loader())
    names = [m.name for m in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"duplicate migration names: {sorted(dupes)}")
    return found


def _unit_loaders() -> list[Callable[[], Sequence[Migration]]]:
    """Each unit's migration list, imported lazily to keep import cycles out of the store."""

    def archive() -> Sequence[Migration]:
        from engine.archive.schema import MIGRATIONS

        return MIGRATIONS

    def alerts() -> Sequence[Migration]:
        from engine.alerts.schema import MIGRATIONS

        return MIGRATIONS

    def delivery() -> Sequence[Migration]:
        from engine.alerts.outbox import MIGRATIONS

        return MIGRATIONS

    return [alerts, delivery, archive]


def applied_names(db: SqliteDatabase) -> set[str]:
    """Names already recorded as applied."""
    _ensure_table(db)
    return {row[0] for row in db.execute_sql("SELECT name FROM schema_migrations").fetchall()}


def pending(db: SqliteDatabase, migrations: Sequence[Migration] | None = None) -> list[Migration]:
    """Migrations not yet applied, in order."""
    done = applied_names(db)
    return [m for m in (migrations if migrations is not None else all_migrations()) if m.name not in done]


def apply_migrations(db: SqliteDatabase, migrations: Sequence[Migration] | None = None) -> list[str]:
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
