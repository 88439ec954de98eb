"""An in-process started Engine (API server off: the tests build the app themselves) and a
TestClient with the token, Host 127.0.0.1:PORT."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.engine import Engine
from engine.units import UNITS
from tests.helpers import parse_config

PORT = 18765
BASE = f"http://127.0.0.1:{PORT}"
QUIET_CHECKS = ("disk_space", "endpoint", "listening_ports")


def engine_config(**sections):
    raw = {"toast": {"enabled": False}, "api": {"enabled": False}, "archive": {"enabled": False},
           "checks": {name: {"enabled": False} for name in QUIET_CHECKS}}
    raw.update(sections)
    return parse_config(raw, env={})


@pytest.fixture
def engine(wk_home) -> Iterator[Engine]:
    eng = Engine(wk_home, engine_config(), UNITS)
    eng.start()
    yield eng
    eng.stop("test")


@pytest.fixture
def tokens(wk_home):
    from engine.api.tokens import TokenStore

    return TokenStore(wk_home)


@pytest.fixture
def app(engine, tokens):
    from engine.api.http import create_app

    return create_app(engine, tokens, port=PORT)


@pytest.fixture
def client(app, tokens):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {tokens.current().full}"
        yield c


@pytest.fixture
def anon(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c
