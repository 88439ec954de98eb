"""The contract of a scheduled module: a named job the engine runs on a schedule from config.

A module is one file implementing :class:`ScheduledModule` plus one line in ``engine.units.MODULES``;
the engine turns every module whose ``schedule(config)`` is not None into a scheduler job and
calls ``run(context)`` with what the run may use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from peewee import SqliteDatabase

from engine.config import Config
from engine.paths import Paths

if TYPE_CHECKING:
    from engine.alerts.dispatcher import Dispatcher


@dataclass(frozen=True)
class ModuleContext:
    """What one run of a module gets: the database, settings and folders, the time of the run,
    the alert dispatcher, and the cooldowns of the configured checks (retention keeps them)."""

    db: SqliteDatabase
    config: Config
    paths: Paths
    now: datetime
    dispatcher: Dispatcher
    check_cooldowns: Sequence[str] = ()


class ScheduledModule(Protocol):
    """A scheduled unit of work (weekly duties, the nightly archive, the session watch)."""

    name: str
    description: str

    def schedule(self, config: Config) -> str | None:
        """Its schedule text (``every 5m``, ``cron ...``) for ``config``; None when turned off."""
        ...

    def run(self, context: ModuleContext) -> object:
        """One run; raising marks the job's run as failed (the scheduler records it)."""
        ...
