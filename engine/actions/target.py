"""What an action works against: :class:`Target`, a running instance or a data folder without one.

The running instance is the :class:`~engine.engine.Engine` of this process (the API, the tray,
the Telegram conversation and the control-channel handlers hold it). :class:`Offline` is the
database, configuration and units of a data folder when no instance runs (the CLI); it has no
scheduler and no delivery workers, and its ``publish`` tells a running instance, if one started
meanwhile, to refresh. Actions that need the live objects take an :class:`Instance`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from peewee import SqliteDatabase

from engine.actions.errors import Conflict
from engine.store.db import connection
from engine.timeutil import utcnow

if TYPE_CHECKING:
    from engine.checks.service import CheckService
    from engine.compose import Units
    from engine.config import Config
    from engine.delivery.service import DeliveryService
    from engine.scheduler import Scheduler
    from engine.snapshot import Snapshot


class Target(Protocol):
    """The pieces an action may use; ``None`` where this target has no such part."""

    @property
    def config(self) -> Config: ...
    @property
    def units(self) -> Units: ...
    @property
    def db(self) -> SqliteDatabase | None: ...
    @property
    def checks(self) -> CheckService | None: ...
    @property
    def scheduler(self) -> Scheduler | None: ...
    @property
    def delivery(self) -> DeliveryService | None: ...
    def now(self) -> datetime: ...
    def publish(self) -> None:
        """Something the instance shows changed (its snapshot subscribers are told)."""


class Instance(Target, Protocol):
    """A running instance: a Target with a live snapshot (the Engine)."""

    def snapshot(self) -> Snapshot: ...


class Offline:
    """A data folder without a running instance: its migrated database, config and units."""

    scheduler: Scheduler | None = None
    delivery: DeliveryService | None = None

    def __init__(self, db: SqliteDatabase, config: Config, units: Units, *,
                 now: Callable[[], datetime] = utcnow, on_change: Callable[[], object] | None = None):
        self.db: SqliteDatabase | None = db
        self.config = config
        self.units = units
        self._now = now
        self._on_change = on_change

    def now(self) -> datetime:
        return self._now()

    @cached_property
    def checks(self) -> CheckService | None:
        """The configured checks, queueing what they notify in the outbox (built on first use)."""
        from engine.checks.service import build_service
        from engine.delivery.service import outbox_hook

        service = build_service(database(self), self.config, self._now, self.units.check_kinds)
        service.dispatcher.on_queue.append(outbox_hook(self.config, self._now, self.units.channels))
        return service

    def publish(self) -> None:
        if self._on_change is not None:
            self._on_change()


def database(target: Target) -> SqliteDatabase:
    """The target's database; Conflict when the instance is not running (stopped or not started)."""
    if target.db is None:
        raise Conflict("the instance is not running")
    return target.db


def check_service(target: Target) -> CheckService:
    """The target's checks; Conflict when the instance is not running."""
    if target.checks is None:
        raise Conflict("the instance is not running")
    return target.checks


@contextmanager
def connected(target: Target) -> Iterator[SqliteDatabase]:
    """The target's database with this thread's connection for the block (Conflict when not running)."""
    with connection(database(target)) as db:
        yield db
