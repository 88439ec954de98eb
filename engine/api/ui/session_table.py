"""The dashboard's server-side session table: ids handed out as the ``wk_ui_<port>`` cookie.

Sessions expire after SESSION_IDLE_SECONDS without a request; the table keeps at most
MAX_SESSIONS (the least recently used goes first). Ids are kept only as SHA-256 digests. Pure apart
from the injected monotonic ``clock``; thread-safe."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

SESSION_IDLE_SECONDS = 12 * 3600
MAX_SESSIONS = 64


def cookie_name(port: int) -> str:
    """Cookies are not isolated by port: each instance's port gets its own name."""
    return f"wk_ui_{port}"


class Sessions:
    """Live sessions (digest of the id -> last use, monotonic seconds); thread-safe."""

    def __init__(self, *, idle: float = SESSION_IDLE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.idle = idle
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()

    def create(self) -> str:
        """A new session id."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            while len(self._seen) >= MAX_SESSIONS:
                self._seen.popitem(last=False)
            self._seen[self._key(session_id)] = self._clock()
        return session_id

    def touch(self, session_id: str | None) -> bool:
        """Whether ``session_id`` is a live session (its idle time restarts); an expired one is dropped."""
        if not session_id or len(session_id) > 200:
            return False
        key, now = self._key(session_id), self._clock()
        with self._lock:
            last = self._seen.get(key)
            if last is None:
                return False
            if now - last >= self.idle:
                del self._seen[key]
                return False
            self._seen[key] = now
            self._seen.move_to_end(key)
            return True
