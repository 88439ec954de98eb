"""Open the one SQLite database with the pragmas every connection needs, then apply the
migrations it is given (the store imports no feature: ``engine.units.MIGRATIONS`` lists them).

WAL + synchronous=NORMAL survives application crashes; busy_timeout lets writers queue instead
of failing; foreign_keys is per-connection, so it is set on every connection peewee opens (one
per thread, thread_safe=True). Read-then-write paths must use ``db.atomic("IMMEDIATE")``.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import peewee
from peewee import DatabaseProxy, SqliteDatabase

from engine.store.migrations import Migration, apply_migrations

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


class DiskFull(StoreError):
    """A write failed for lack of space; the message is ``disk full: N MB free at FOLDER``."""

    def __init__(self, folder: Path, free_bytes: int | None) -> None:
        self.folder = folder
        self.free_bytes = free_bytes
        free = "unknown space" if free_bytes is None else f"{free_bytes / 1e6:.1f} MB"
        super().__init__(f"disk full: {free} free at {folder}")


class ReadOnlyDatabase(StoreError, peewee.OperationalError):
    """A write was refused because the database (its file or its folder) is read-only.

    Also a peewee.OperationalError, so code that handles a failed write goes on handling it."""

    def __init__(self, path: Path | str, cause: BaseException) -> None:
        self.path = Path(path)
        super().__init__(f"cannot write the database {path}: it is read-only ({cause})")


_SQLITE_READONLY = 8
_SQLITE_FULL = 13
_NO_SPACE = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc``, or an error it was raised from or while handling, says the disk is full.

    SQLite says "database or disk is full" (SQLITE_FULL), the OS ENOSPC or EDQUOT. The chain
    matters: after SQLite rolled a transaction back by itself, peewee's own ROLLBACK fails with
    "cannot rollback - no transaction is active", and the real error is only its context.
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, DiskFull):
            return True
        if isinstance(cur, OSError) and cur.errno in _NO_SPACE:
            return True
        if getattr(cur, "sqlite_errorcode", None) == _SQLITE_FULL or (
                isinstance(cur, (sqlite3.Error, peewee.DatabaseError)) and "database or disk is full" in str(cur)):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def is_read_only(exc: BaseException) -> bool:
    """True when SQLite refused a write because the file, its folder or the file system is read-only."""
    for cur in (exc, *exc.args[:1]):  # peewee's error carries sqlite3's as its first argument
        code = getattr(cur, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == _SQLITE_READONLY:
            return True
    return isinstance(exc, (sqlite3.Error, peewee.DatabaseError)) and "readonly database" in str(exc)


class _Database(SqliteDatabase):
    """SqliteDatabase whose refused writes on a read-only file raise :class:`ReadOnlyDatabase`
    (naming the file) instead of a bare "attempt to write a readonly database"."""

    def execute_sql(self, sql, params=None):  # type: ignore[no-untyped-def]  # peewee's signature
        with self._read_only_named():
            return super().execute_sql(sql, params)

    def begin(self, lock_type=None):  # type: ignore[no-untyped-def]
        with self._read_only_named():
            return super().begin(lock_type)

    def commit(self):  # type: ignore[no-untyped-def]
        with self._read_only_named():
            return super().commit()

    @contextmanager
    def _read_only_named(self) -> Iterator[None]:
        try:
            yield
        except peewee.OperationalError as exc:
            if isinstance(exc, ReadOnlyDatabase) or not is_read_only(exc):
                raise
            raise ReadOnlyDatabase(self.database, exc) from exc


def disk_full_error(db_path: Path | str) -> DiskFull:
    """The :class:`DiskFull` for the database at ``db_path``, with the free space of its folder now."""
    folder = Path(db_path).parent
    try:
        free: int | None = shutil.disk_usage(folder).free
    except OSError:
        free = None
    return DiskFull(folder, free)


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
    return _Database(str(path), pragmas=PRAGMAS, timeout=15, check_same_thread=False)


def open_database(path: Path, migrations: Sequence[Migration]) -> SqliteDatabase:
    """Open (creating if needed) the database at ``path``, apply the pending ``migrations`` and bind the models."""
    db = connect(path)
    deadline = time.monotonic() + OPEN_TIMEOUT
    while True:
        try:
            db.connect(reuse_if_open=True)
            apply_migrations(db, migrations)
            break
        except ReadOnlyDatabase:  # a migration to apply on a read-only file: the message names it already
            db.close()
            raise
        except (sqlite3.DatabaseError, peewee.DatabaseError) as exc:  # peewee wraps sqlite3's errors
            db.close()
            # Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked" at once
            # (no busy wait) while another process does the same: retry that case, briefly.
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if is_disk_full(exc):
                raise disk_full_error(path) from exc
            raise StoreError(f"database {path}: {exc}{_read_only_hint(path)}") from exc
    database_proxy.initialize(db)
    return db


def _read_only_hint(path: Path) -> str:
    """Why SQLite may not open ``path`` for writing: " (the file is read-only)", its folder, or ""."""
    if not os.access(path.parent, os.W_OK):  # WAL needs to create -wal and -shm beside the file
        return f" (its folder {path.parent} is read-only)"
    if path.exists() and not os.access(path, os.W_OK):
        return " (the file is read-only)"
    return ""


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
