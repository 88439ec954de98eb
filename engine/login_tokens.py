"""One-time dashboard login tokens: minted in the running instance for the tray's "Open dashboard"
and `watchkeeper dashboard`, redeemed once by the dashboard's login page (engine/api/ui/session.py).

A token is ``secrets.token_urlsafe(32)``, good for TOKEN_SECONDS and one use; redeeming compares
in constant time against every pending token. Pure apart from the injected monotonic ``clock``;
thread-safe (minted from the control channel and the tray, redeemed on the API's event loop)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

TOKEN_SECONDS = 60.0
MAX_PENDING = 16  # minted but not redeemed; the oldest is dropped beyond this
MAX_TOKEN_CHARS = 200  # anything longer is refused before comparing


class OneTimeTokens:
    """Pending login tokens with their expiry (monotonic seconds)."""

    def __init__(self, *, lifetime: float = TOKEN_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}  # token -> expiry, oldest first

    def mint(self) -> str:
        """A new token, good for ``lifetime`` seconds and one redemption."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            while len(self._pending) >= MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[token] = self._clock() + self.lifetime
        return token

    def redeem(self, given: str) -> bool:
        """True once for a pending, unexpired token (it is used up); False for anything else."""
        if not isinstance(given, str) or not given or len(given) > MAX_TOKEN_CHARS:
            return False
        given_bytes = given.encode("utf-8", "replace")
        with self._lock:
            self._forget_expired()
            found = None
            for token in list(self._pending):  # compare with all: no early exit on a match
                if secrets.compare_digest(token.encode(), given_bytes):
                    found = token
            if found is None:
                return False
            del self._pending[found]
            return True

    def _forget_expired(self) -> None:
        now = self._clock()
        for token, expiry in list(self._pending.items()):
            if expiry <= now:
                del self._pending[token]
