"""Open the one SQLite database with the pragmas every connection needs, then migrate it.

WAL + synchronous=NORMAL survives application crashes; busy_timeout lets writers queue instead
of failing; foreign_keys is per-connection, so it is set on every connection peewee opens (one
per thread, thread_safe=True). Read-then-write paths must use ``db.atomic("IMMEDIATE")``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import peewee
from peewee import DatabaseProxy, SqliteDatabase

PRAGMAS = {
    "busy_timeout": 15000,  # first: the other pragmas may already need to wait for a lock
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": 1,  # NORMAL
    "cache_size": -16000,
}

OPEN_TIMEOUT = 15.0  # seconds open_database() keeps retrying a database locked by another opener

# Models bind to this proxy; open_database() points it at the real file.
database_proxy = DatabaseProxy()


class StoreError(Exception):
    """The database cannot be opened, migrated or is corrupt; the message names the file."""


def connect(path: Path) -> SqliteDatabase:
    """A peewee database for ``path`` with the pragmas set (not migrated).

    The file is created (or tightened) 0600 before SQLite opens it: SQLite gives its -wal and -shm
    files the database file's mode, so the archived conversations are never readable by others.
    """
    from engine.privatefile import ensure_private_file

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ensure_private_file(path)
    except OSError as exc:
        raise StoreError(f"database {path}: cannot create it: {exc}") from exc
    return SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=15, check_same_thread=False)


def open_database(path: Path, *, migrate: bool = True) -> SqliteDatabase:
    """Open (creating if needed) the database at ``path``, migrate it to head and bind the models."""
    from engine.store.migrations import apply_migrations

    db = connect(path)
    deadline = time.monotonic() + OPEN_TIMEOUT
    while True:
        try:
            db.connect(reuse_if_open=True)
            if migrate:
                apply_migrations(db)
            break
        except (sqlite3.DatabaseError, peewee.DatabaseError) as exc:  # peewee wraps sqlite3's errors
            db.close()
            # Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked" at once
            # (no busy wait) while another process does the same: retry that case, briefly.
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise StoreError(f"database {path}: {exc}") from exc
    database_proxy.initialize(db)
    return db


@contextmanager
def connection(db: SqliteDatabase) -> Iterator[SqliteDatabase]:
    """This thread's connection for the block: opened if needed, closed only if opened here.

    (peewee's connection_context() closes a connection the thread had opened before it.)
    """
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield db
    finally:
        if opened and not db.is_closed():
            db.close()
