"""Who this instance is on a bot token it may share: a short random id, and the other machines seen.

Two machines with the same bot token see each other's button presses; the button data names the
instance (and, clipped, its machine: engine.machine.machine_name) so the one that did not send a
message refuses to act on it.
"""

from __future__ import annotations

import json
import secrets

from peewee import SqliteDatabase

from engine import runtime_state

INSTANCE_ID_KEY = "delivery.instance_id"
INSTANCE_ID_HEX = 8
OTHER_MACHINES_KEY = "telegram.other_machines"
OTHER_MACHINES_MAX = 20
NAME_MACHINE_CHOICES = ("auto", "always", "never")


def instance_id(db: SqliteDatabase) -> str:
    """This data folder's instance id (8 hex characters), created once and kept in the database."""
    return runtime_state.get_or_create(db, INSTANCE_ID_KEY, lambda: secrets.token_hex(INSTANCE_ID_HEX // 2))


def other_machines(db: SqliteDatabase) -> list[str]:
    """The other machines seen on this bot (from their buttons pressed here), oldest first."""
    raw = runtime_state.get_value(db, OTHER_MACHINES_KEY)
    try:
        seen = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [str(name) for name in seen] if isinstance(seen, list) else []


def record_other_machine(db: SqliteDatabase, machine: str) -> None:
    """Remember that ``machine`` uses this bot too (at most OTHER_MACHINES_MAX names are kept)."""
    seen = other_machines(db)
    if machine in seen:
        return
    runtime_state.set_value(db, OTHER_MACHINES_KEY, json.dumps([*seen, machine][-OTHER_MACHINES_MAX:]))


def names_machine(setting: str, shared: bool) -> bool:
    """Whether a message names its machine: ``always``; ``auto`` once the bot is seen shared
    (another machine's button, or another poller on the token); never for ``never``."""
    return setting == "always" or (setting == "auto" and shared)
