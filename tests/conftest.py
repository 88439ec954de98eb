"""Test-wide setup: no display for pystray unless a test asks, and an isolated WATCHKEEPER_HOME."""

from __future__ import annotations

import os

# Must happen before anything imports pystray (pystray picks its backend when imported).
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")

import pytest  # noqa: E402

from engine.paths import Paths, resolve_paths  # noqa: E402

TEST_VARIABLES = {"WATCHKEEPER_HOME", "WATCHKEEPER_BINARY", "WATCHKEEPER_SCREENSHOTS"}  # the tests' own, not config


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wk_home(tmp_path, monkeypatch) -> Paths:
    """A private WATCHKEEPER_HOME for the test (and for the processes it starts).

    Its config gives the local API a free port, so instances never contend for the default one;
    tests add settings by appending to config.toml.
    """
    home = tmp_path / "wk"
    monkeypatch.setenv("WATCHKEEPER_HOME", str(home))
    for var in list(os.environ):  # a developer's own config variables (WATCHKEEPER_API_PORT, ...) stay out of tests
        if var.startswith("WATCHKEEPER_") and var not in TEST_VARIABLES and not var.startswith("WATCHKEEPER_REQUIRE_"):
            monkeypatch.delenv(var, raising=False)
    paths = resolve_paths().ensure()
    paths.config_file.write_text(f"[api]\nport = {free_port()}\n")
    paths.config_file.chmod(0o600)  # as Watchkeeper writes it (doctor reports a config others can read)
    return paths


@pytest.fixture
def db(tmp_path):
    """A migrated real SQLite database file."""
    from engine.units import open_db

    database = open_db(tmp_path / "test.db")
    yield database
    database.close()
