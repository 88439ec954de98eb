"""Property-based run over /openapi.json against a real uvicorn server of a started Engine, with the
token: no 5xx, and every response matches its declared status code, content type and schema.

Examples per operation: WK_SCHEMATHESIS_EXAMPLES (default 25; about 40 s for the whole run).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.api.server import ApiServer  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.paths import resolve_paths  # noqa: E402
from engine.units import UNITS  # noqa: E402

from .conftest import engine_config  # noqa: E402

EXAMPLES = int(os.environ.get("WK_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str]]:
    paths = resolve_paths({"WATCHKEEPER_HOME": str(tmp_path_factory.mktemp("wk"))}).ensure()
    port = free_port()
    config = engine_config(api={"enabled": True, "port": port})
    engine = Engine(paths, config, UNITS)
    engine.start()
    try:
        server = next(s for s in engine.services if isinstance(s, ApiServer))
        assert server.problem is None and server.url
        assert server.tokens is not None
        token = server.tokens.current().full
        yield server.url, token
    finally:
        engine.stop("test")


def _spec() -> dict:
    """The app's OpenAPI document (it does not depend on the instance; built without one)."""
    from engine.api.http import create_app

    return create_app(None, None, port=0).openapi()  # type: ignore[arg-type]


# (schemathesis.pytest.from_fixture does not work with pytest 9: it reads Function._nodeid)
schema = schemathesis.openapi.from_dict(_spec())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, served):
    url, token = served
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
