"""The pure access rules: the bearer token, and who may use a LAN-bound API (peer, allow-list, path, header)."""

from __future__ import annotations

import pytest

from engine.api.access import LanAccess, is_loopback_peer, lan_refusal, token_refusal
from engine.api.tokens import Tokens

TOKENS = Tokens(full="full-token", read_only="ro-token", scrape="scrape-token")
LAN = LanAccess.parse(["192.168.1.0/24", "10.0.0.7", "fd00::/8"])


def bearer(token: str) -> bytes:
    return f"Bearer {token}".encode()


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"])
def test_loopback_peers_are_recognised_also_through_a_dual_stack_socket(peer):
    assert is_loopback_peer(peer)


@pytest.mark.parametrize("peer", ["192.168.1.5", "::ffff:192.168.1.5", "fe80::1%eth0", "testclient", "", None])
def test_other_peers_and_unreadable_ones_are_not_loopback(peer):
    assert not is_loopback_peer(peer)


@pytest.mark.parametrize("peer", ["192.168.1.5", "::ffff:192.168.1.200", "10.0.0.7", "fd12::3"])
def test_a_peer_in_the_allow_list_with_the_token_is_let_in_on_every_path(peer):
    for path in ("/health", "/docs", "/openapi.json", "/ui/", "/ui/static/app.css", "/status", "/metrics"):
        assert lan_refusal(LAN, peer, "GET", path, bearer("full-token"), TOKENS) is None, path


@pytest.mark.parametrize("peer", ["192.168.2.5", "10.0.0.8", "8.8.8.8", "fe80::1", "garbage", None])
def test_a_peer_outside_the_allow_list_is_refused_even_with_the_token_saying_nothing_more(peer):
    assert lan_refusal(LAN, peer, "GET", "/status", bearer("full-token"), TOKENS) == (403, "forbidden")


@pytest.mark.parametrize("path", ["/health", "/docs", "/openapi.json", "/ui", "/ui/", "/ui/login",
                                  "/ui/static/app.css", "/metrics", "/status"])
def test_an_allowed_peer_without_a_token_is_refused_on_every_path_including_the_public_ones(path):
    assert lan_refusal(LAN, "192.168.1.5", "GET", path, b"", TOKENS) == (401, "missing bearer token")
    assert lan_refusal(LAN, "192.168.1.5", "GET", path, bearer("wrong"), TOKENS) == (401, "invalid token")


def test_the_scrape_token_opens_metrics_only_from_the_lan():
    assert lan_refusal(LAN, "192.168.1.5", "GET", "/metrics", bearer("scrape-token"), TOKENS) is None
    for path in ("/health", "/status", "/docs"):
        status, _ = lan_refusal(LAN, "192.168.1.5", "GET", path, bearer("scrape-token"), TOKENS) or (0, "")
        assert status == 403, path


def test_the_read_only_token_allows_reads_only_from_the_lan():
    assert lan_refusal(LAN, "192.168.1.5", "GET", "/status", bearer("ro-token"), TOKENS) is None
    assert lan_refusal(LAN, "192.168.1.5", "POST", "/pause", bearer("ro-token"), TOKENS) == (
        403, "the read-only token allows GET requests only")


def test_the_dashboard_login_is_refused_to_a_lan_peer_even_with_the_token():
    status, detail = lan_refusal(LAN, "192.168.1.5", "POST", "/ui/session", bearer("full-token"), TOKENS) or (0, "")
    assert status == 403 and "this machine only" in detail


def test_the_token_rule_wants_the_bearer_scheme():
    assert token_refusal(b"Basic full-token", "GET", "/status", TOKENS) == (401, "missing bearer token")
    assert token_refusal(b"bearer full-token", "GET", "/status", TOKENS) is None
    assert token_refusal(bearer("scrape-token"), "POST", "/metrics", TOKENS) == (
        403, "the scrape token allows GET /metrics only")
