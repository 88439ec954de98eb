"""The dashboard in process: the API app of a started Engine (tests/engine/api/conftest.py) with a
one-time token table the test holds, a visitor-like client (Host 127.0.0.1:PORT, no bearer token)
and ``login(client)`` doing what login.js does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.login_tokens import OneTimeTokens
from tests.engine.api.conftest import BASE, PORT

ORIGIN = BASE
WRITE_HEADERS = {"Origin": ORIGIN, "X-WK-UI": "1"}
COOKIE = f"wk_ui_{PORT}"


@pytest.fixture
def logins() -> OneTimeTokens:
    return OneTimeTokens()


@pytest.fixture
def ui_app(engine, tokens, logins):
    from engine.api.http import create_app

    return create_app(engine, tokens, port=PORT, logins=logins)


@pytest.fixture
def visitor(ui_app) -> Iterator:
    from fastapi.testclient import TestClient

    with TestClient(ui_app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def post_token(client, token: str, headers: dict[str, str] | None = None):
    return client.post("/ui/session", json={"token": token}, headers=WRITE_HEADERS if headers is None else headers)


@pytest.fixture
def login(logins):
    def login(client) -> None:
        answer = post_token(client, logins.mint())
        assert answer.status_code == 204, answer.text
        assert COOKIE in client.cookies

    return login


FIRING_DISK = {"enabled": True, "volumes": ["/"], "schedule": "every 24h", "min_free_gb": 1000000}


@pytest.fixture
def firing_engine(wk_home):
    """A started Engine whose disk_space check always finds something (no disk has a petabyte free)."""
    from engine.engine import Engine
    from engine.units import UNITS
    from tests.engine.api.conftest import QUIET_CHECKS, engine_config

    checks = {name: {"enabled": False} for name in QUIET_CHECKS}
    checks["disk_space"] = FIRING_DISK
    eng = Engine(wk_home, engine_config(checks=checks), UNITS)
    eng.start()
    yield eng
    eng.stop("test")


@pytest.fixture
def firing_visitor(firing_engine, tokens, logins):
    """A logged-in visitor of the firing engine's dashboard."""
    from fastapi.testclient import TestClient

    from engine.api.http import create_app

    app = create_app(firing_engine, tokens, port=PORT, logins=logins)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        answer = post_token(c, logins.mint())
        assert answer.status_code == 204, answer.text
        yield c
