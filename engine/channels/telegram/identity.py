"""Who this instance is on a bot token it may share: a short random id and the machine name.

Two machines with the same bot token see each other's button presses; the button data names the
instance (and, clipped, its machine) so the one that did not send a message refuses to act on it.
"""

from __future__ import annotations

import platform
import secrets
import socket

from peewee import SqliteDatabase

from engine import runtime_state

INSTANCE_ID_KEY = "delivery.instance_id"
INSTANCE_ID_HEX = 8


def instance_id(db: SqliteDatabase) -> str:
    """This data folder's instance id (8 hex characters), created once and kept in the database."""
    return runtime_state.get_or_create(db, INSTANCE_ID_KEY, lambda: secrets.token_hex(INSTANCE_ID_HEX // 2))


def machine_name() -> str:
    """The computer's name as its owner knows it (the network host name), or 'unknown'."""
    return platform.node() or socket.gethostname() or "unknown"
