"""Who may use the API: the bearer-token rule for every request, and the rule for peers on a LAN.

Pure functions (no I/O), called by engine.api.http.Guard before any routing:

- :func:`token_refusal`: the full token opens everything, the read-only one GET only, the scrape
  token ``GET /metrics`` only.
- With ``[api] bind`` other than loopback, a peer that is not loopback (:func:`is_loopback_peer`)
  must be in ``[api] allow`` (else 403 with nothing more said), and needs a token on every path,
  ``/health``, the docs and the dashboard's files included; the dashboard login (``POST /ui/session``)
  stays on this machine. The Host header is not checked for such peers: it guards against DNS
  rebinding of the paths open without a token, and a LAN peer has none; a scraper may name the
  machine by its host name or any of its addresses. Loopback peers are judged exactly as on a
  loopback-only API.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from engine.api.tokens import Tokens

Refusal = tuple[int, str]  # HTTP status, the "detail" text
READ_METHODS = frozenset({"GET", "HEAD"})
METRICS_PATH = "/metrics"
LOGIN_PATH = "/ui/session"
NOT_ALLOWED: Refusal = (403, "forbidden")
MISSING_TOKEN: Refusal = (401, "missing bearer token")
INVALID_TOKEN: Refusal = (401, "invalid token")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def token_refusal(auth: bytes, method: str, path: str, tokens: Tokens) -> Refusal | None:
    """Why a request with the ``Authorization`` header ``auth`` is refused, or None to let it in."""
    scheme, _, given = auth.partition(b" ")
    if scheme.lower() != b"bearer" or not given.strip():
        return MISSING_TOKEN
    given = given.strip()
    if secrets.compare_digest(given, tokens.full.encode()):
        return None
    if tokens.read_only and secrets.compare_digest(given, tokens.read_only.encode()):
        return None if method in READ_METHODS else (403, "the read-only token allows GET requests only")
    if tokens.scrape and secrets.compare_digest(given, tokens.scrape.encode()):
        if path == METRICS_PATH and method in READ_METHODS:
            return None
        return 403, "the scrape token allows GET /metrics only"
    return INVALID_TOKEN


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return address


def is_loopback_peer(peer: str | None) -> bool:
    """Whether the connection comes from this machine's loopback (127.0.0.0/8, ::1)."""
    address = _address(peer) if peer else None
    return address is not None and address.is_loopback


@dataclass(frozen=True)
class LanAccess:
    """The allow-list of a LAN-bound API (``[api] allow``, parsed)."""

    networks: tuple[IpNetwork, ...]

    @classmethod
    def parse(cls, allow: Iterable[str]) -> LanAccess:
        """From the config's texts (validated by engine.config; a bad one raises ValueError)."""
        return cls(tuple(ipaddress.ip_network(item, strict=False) for item in allow))

    def allows(self, peer: str | None) -> bool:
        address = _address(peer) if peer else None
        return address is not None and any(address in network for network in self.networks)


def lan_refusal(access: LanAccess, peer: str | None, method: str, path: str, auth: bytes,
                tokens: Tokens) -> Refusal | None:
    """Why a request from ``peer``, a peer that is not loopback, is refused by a LAN-bound API, or None."""
    if not access.allows(peer):
        return NOT_ALLOWED
    if path == LOGIN_PATH:
        return 403, "the dashboard login is open on this machine only"
    return token_refusal(auth, method, path, tokens)
