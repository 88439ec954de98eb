"""What every CLI handler receives: paths, the loaded config, the registered units, the database
on demand, how to reach the running instance, and the frontend `run` may show."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peewee import SqliteDatabase

from engine.actions.target import Offline
from engine.compose import Units
from engine.config import Config
from engine.paths import Paths
from engine.process.control import ControlError, send_command
from engine.process.lifecycle import running_instance
from engine.store.db import open_database

if TYPE_CHECKING:
    from engine.process.runner import Frontend


@dataclass
class CliContext:
    paths: Paths
    config: Config
    units: Units
    frontend: Frontend | None = None
    _db: SqliteDatabase | None = field(default=None, repr=False)

    def open_db(self) -> SqliteDatabase:
        """The migrated database (opened once per command)."""
        if self._db is None:
            self.paths.ensure()
            self._db = open_database(self.paths.db_file, self.units.migrations)
        return self._db

    def offline(self) -> Offline:
        """The data folder as an action target without the instance: its database, config and units;
        a change is announced to an instance that runs (`refresh`)."""
        return Offline(self.open_db(), self.config, self.units, on_change=lambda: self.send("refresh"))

    def instance_running(self) -> bool:
        return running_instance(self.paths) is not None

    def send(self, command: str, **params: Any) -> dict[str, Any] | None:
        """Send to the running instance; None when none runs. Raises ControlError on failure."""
        if not self.instance_running():
            return None
        return send_command(self.paths.control_file, command, **params)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout."""
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


__all__ = ["CliContext", "ControlError", "emit_json"]
