"""ApiServer inside a running Engine: busy port -> DEGRADED (no crash), lazy import, clean close."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import urllib.request

from engine.api.server import ApiServer, bind
from engine.engine import Engine
from engine.health import Health
from engine.units import UNITS
from tests.helpers import ROOT

from .conftest import engine_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(engine: Engine) -> ApiServer:
    return next(s for s in engine.services if isinstance(s, ApiServer))


def test_a_busy_port_is_a_problem_in_health_not_a_crash(wk_home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        engine = Engine(wk_home, engine_config(api={"enabled": True, "port": port}), UNITS)
        engine.start()
        try:
            server = _api(engine)
            assert server.url is None and server.problem and f"API port {port}" in server.problem
            snap = engine.snapshot()
            assert snap.state == Health.DEGRADED and snap.api_url is None
            assert any(f"API port {port}" in r for r in snap.health.reasons)
            assert engine.scheduler is not None and engine.scheduler.specs  # the rest runs on
        finally:
            engine.stop("test")


def test_api_serves_reports_its_url_and_releases_the_port_on_stop(wk_home):
    port = free_port()
    engine = Engine(wk_home, engine_config(api={"enabled": True, "port": port}), UNITS)
    engine.start()
    try:
        server = _api(engine)
        assert server.problem is None and engine.snapshot().api_url == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as r:
            assert json.load(r)["status"] == "up"
        assert server.ready.wait(30)
    finally:
        engine.stop("test")
    assert server._thread is not None and not server._thread.is_alive()
    bind(port).close()  # released: the next instance can serve on it (TIME_WAIT is no obstacle)


def test_close_before_any_request_is_immediate_and_clean(wk_home):
    port = free_port()
    engine = Engine(wk_home, engine_config(api={"enabled": True, "port": port}), UNITS)
    engine.start()
    server = _api(engine)
    engine.stop("test")
    assert server._thread is not None and not server._thread.is_alive()


def test_disabled_api_starts_no_server(wk_home):
    engine = Engine(wk_home, engine_config(api={"enabled": False}), UNITS)
    engine.start()
    try:
        assert not any(isinstance(s, ApiServer) for s in engine.services)
        assert engine.snapshot().api_url is None
    finally:
        engine.stop("test")


def test_fastapi_and_uvicorn_are_imported_only_when_the_first_client_connects(wk_home):
    """An idle instance does not pay for FastAPI/pydantic/uvicorn (start-up time, ~25 MB)."""
    port = free_port()
    code = textwrap.dedent(f"""
        import json, sys, urllib.request
        from engine.compose import parse_config
        from engine.engine import Engine
        from engine.units import UNITS
        from engine.paths import resolve_paths
        config = parse_config({{"toast": {{"enabled": False}}, "archive": {{"enabled": False}},
                                "api": {{"port": {port}}}}}, UNITS, env={{}})
        engine = Engine(resolve_paths().ensure(), config, UNITS)
        engine.start()
        before = sorted(m for m in ("fastapi", "uvicorn", "pydantic") if m in sys.modules)
        with urllib.request.urlopen("http://127.0.0.1:{port}/health", timeout=30) as r:
            body = json.load(r)
        after = sorted(m for m in ("fastapi", "uvicorn", "pydantic") if m in sys.modules)
        engine.stop("test")
        print(json.dumps({{"before": before, "after": after, "body": body}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["before"] == [] and result["after"] == ["fastapi", "pydantic", "uvicorn"]
    assert result["body"]["status"] == "up"


def test_the_api_token_command_prints_the_token(wk_home):
    from engine.api.tokens import read_token
    from tests.helpers import cli

    first = cli("api", "token", check=True).stdout.strip()
    assert first == read_token(wk_home) and cli("api", "token", check=True).stdout.strip() == first
    read_only = cli("api", "token", "--read-only", check=True).stdout.strip()
    assert read_only != first and read_only == read_token(wk_home, read_only=True)
    rotated = cli("api", "token", "--rotate", check=True).stdout.strip()
    assert rotated != first and rotated == read_token(wk_home)
    assert cli("api").returncode == 2
