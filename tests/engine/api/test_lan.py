"""A real instance with `[api] bind` on this machine's LAN address: only allowed peers, a token on every
path from them, loopback as before (IPv4 and, where this machine has an IPv6 address, a dual-stack "::" bind);
a bind without an allow-list refuses to start (exit 2)."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from engine.api.tokens import ensure_token
from engine.paths import Paths
from tests.engine.api.instance import free_port
from tests.helpers import cli, start_instance, stop_instance, wait_until


def lan_address(family: socket.AddressFamily = socket.AF_INET) -> str | None:
    """This machine's address on its default route for the family (no packet is sent: a UDP socket
    only picks its source address), or None when it has none beside loopback and link-local."""
    probe = ("2001:db8::1", 9) if family == socket.AF_INET6 else ("192.0.2.1", 9)  # documentation ranges
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(probe)
            address = ipaddress.ip_address(s.getsockname()[0])
    except OSError:
        return None
    return None if address.is_loopback or address.is_unspecified or address.is_link_local else str(address)


LAN = lan_address()
LAN6 = lan_address(socket.AF_INET6)
needs_lan = pytest.mark.skipif(LAN is None, reason="this machine has no address beside loopback")
needs_lan6 = pytest.mark.skipif(LAN is None or LAN6 is None,
                                reason="this machine has no IPv6 address beside loopback and link-local")


def get(host: str, port: int, path: str, token: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host.strip("[]"), port, timeout=30)  # an IPv6 host comes as "[addr]"
    headers = {"Host": f"{host}:{port}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def lan_instance(paths: Paths, bind: str, allow: list[str]) -> Iterator[int]:
    port = free_port()
    paths.config_file.write_text(f'[api]\nport = {port}\nbind = "{bind}"\nallow = {json.dumps(allow)}\n',
                                 encoding="utf-8")
    proc = start_instance(log=paths.log_dir / "lan.log")
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"instance exited with {proc.returncode}")
            try:
                return get("127.0.0.1", port, "/health")[0] == 200
            except OSError:
                return False

        wait_until(up, timeout=60, message="GET /health on loopback")
        yield port
    finally:
        stop_instance(proc)


@needs_lan
def test_an_allowed_lan_peer_needs_a_token_on_every_path_and_loopback_is_unchanged(wk_home):
    assert LAN is not None
    wk_home.ensure()
    token = ensure_token(wk_home)
    scrape = ensure_token(wk_home, scrape=True)
    with lan_instance(wk_home, LAN, [f"{LAN}/32"]) as port:
        for path in ("/health", "/docs", "/openapi.json", "/ui/", "/ui/static/vendor/manifest.json", "/metrics"):
            status, body = get(LAN, port, path)
            assert status == 401 and b"missing bearer token" in body, path
            assert get(LAN, port, path, "wrong")[0] == 401, path
        for path in ("/health", "/docs", "/openapi.json", "/status", "/metrics"):
            assert get(LAN, port, path, token)[0] == 200, path
        assert get(LAN, port, "/ui/", token)[0] == 401  # past the token: the dashboard still wants its session
        assert get(LAN, port, "/ui/session", token, method="POST")[0] == 403  # the login is for this machine
        assert get(LAN, port, "/metrics", scrape)[0] == 200
        for path in ("/health", "/status", "/docs"):
            assert get(LAN, port, path, scrape)[0] == 403, path
        # loopback: exactly as before (public /health, the token elsewhere)
        assert get("127.0.0.1", port, "/health")[0] == 200
        assert get("127.0.0.1", port, "/status")[0] == 401
        assert get("127.0.0.1", port, "/status", token)[0] == 200
        status = cli("status", check=True).stdout
        assert f"API: http://{LAN}:{port} (LAN: 1 allowed network)" in status
        doctor = cli("doctor").stdout
        assert any(line.startswith("OK      api:") and "plain HTTP" in line for line in doctor.splitlines()), doctor


@needs_lan
def test_a_peer_outside_the_allow_list_is_refused_even_with_the_token_and_loopback_still_works(wk_home):
    assert LAN is not None
    wk_home.ensure()
    token = ensure_token(wk_home)
    with lan_instance(wk_home, "0.0.0.0", ["203.0.113.0/24"]) as port:
        for path in ("/health", "/status", "/metrics", "/docs"):
            assert get(LAN, port, path, token) == (403, b'{"detail":"forbidden"}'), path
        assert get("127.0.0.1", port, "/health")[0] == 200
        assert get("localhost", port, "/status", token)[0] == 200
        assert get("127.0.0.1", port, "/status")[0] == 401


@needs_lan6
def test_a_dual_stack_bind_judges_ipv6_and_ipv4_peers_by_one_allow_list(wk_home):
    """bind = "::" takes IPv4 too: its peers arrive as ::ffff:a.b.c.d and are judged as IPv4."""
    assert LAN is not None and LAN6 is not None
    wk_home.ensure()
    token = ensure_token(wk_home)
    v6 = f"[{LAN6}]"
    with lan_instance(wk_home, "::", [f"{LAN6}/128"]) as port:
        assert get(v6, port, "/health")[0] == 401  # an allowed IPv6 peer: the token on every path
        assert get(v6, port, "/status", token)[0] == 200
        assert get(LAN, port, "/status", token)[0] == 403  # IPv4 LAN peer, not in the list
        for host in ("127.0.0.1", "[::1]"):  # loopback over either family: as before
            assert get(host, port, "/health")[0] == 200, host
            assert get(host, port, "/status")[0] == 401, host
            assert get(host, port, "/status", token)[0] == 200, host


@pytest.mark.parametrize("where", ["file", "env"])
def test_a_lan_bind_without_an_allow_list_refuses_to_start_naming_the_key(wk_home, where):
    env = {}
    if where == "file":
        wk_home.config_file.write_text('[api]\nbind = "0.0.0.0"\n', encoding="utf-8")
    else:
        env = {"WATCHKEEPER_API_BIND": "0.0.0.0"}
    result = cli("run", "--headless", env=env)
    assert result.returncode == 2
    assert "[api] bind = 0.0.0.0 needs [api] allow = [...]" in result.stderr
