"""Action targets: a real started Engine (the running instance) and an Offline data folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.actions.target import Offline
from engine.engine import Engine
from engine.units import UNITS
from tests.helpers import parse_config

QUIET = {"enabled": False}


def quiet_config(**sections: Any) -> Any:
    """No machine-dependent checks, no API port, no archive, no toast."""
    raw: dict[str, Any] = {"toast": QUIET, "api": QUIET, "archive": QUIET,
                           "checks": {name: QUIET for name in ("disk_space", "endpoint", "listening_ports")}}
    raw.update(sections)
    return parse_config(raw, env={})


@pytest.fixture
def engine(wk_home) -> Iterator[Engine]:
    eng = Engine(wk_home, quiet_config(), UNITS)
    eng.start()
    yield eng
    eng.stop("test")


@pytest.fixture
def offline(db) -> Offline:
    return Offline(db, quiet_config(), UNITS)
