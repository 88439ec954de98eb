"""API tokens: random secrets in the data dir, readable only by the user.

``api-token`` (full access) is created at first run; ``api-token-readonly`` (GET only) exists
only once asked for (``watchkeeper api token --read-only``), and so does ``api-token-scrape``
(``--scrape``: good for ``GET /metrics`` only, for a Prometheus server). A running server notices a new or
rotated token file by its modification time, without a restart.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.paths import Paths
from engine.privatefile import tighten_private_file, write_private_file

FULL_FILE = "api-token"
READ_ONLY_FILE = "api-token-readonly"
SCRAPE_FILE = "api-token-scrape"


def token_file(paths: Paths, read_only: bool = False, *, scrape: bool = False) -> Path:
    """The file of the full token, the read-only one or (``scrape``) the metrics scrape token."""
    return paths.data_dir / (SCRAPE_FILE if scrape else READ_ONLY_FILE if read_only else FULL_FILE)


def read_token(paths: Paths, read_only: bool = False, *, scrape: bool = False) -> str | None:
    """The stored token, or None when there is none (or the file is empty)."""
    try:
        value = token_file(paths, read_only, scrape=scrape).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


def ensure_token(paths: Paths, read_only: bool = False, rotate: bool = False, *, scrape: bool = False) -> str:
    """The token, created (or replaced, with ``rotate``) when needed."""
    path = token_file(paths, read_only, scrape=scrape)
    current = None if rotate else read_token(paths, read_only, scrape=scrape)
    if current:
        tighten_private_file(path)  # one written by an older version may be 0644
        return current
    value = secrets.token_urlsafe(32)
    write_private_file(path, value + "\n")
    return value


@dataclass(frozen=True)
class Tokens:
    full: str
    read_only: str | None
    scrape: str | None = None  # good for GET /metrics only


class TokenStore:
    """The tokens a server accepts, reloaded when a token file changes (a stat per request)."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None
        self._tokens = Tokens(ensure_token(paths), read_token(paths, read_only=True), read_token(paths, scrape=True))
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, ...]:
        stamps = []
        for path in (token_file(self.paths), token_file(self.paths, True), token_file(self.paths, scrape=True)):
            try:
                stamps.append(path.stat().st_mtime_ns)
            except OSError:
                stamps.append(0)
        return tuple(stamps)

    def current(self) -> Tokens:
        stamp = self._stat()
        if stamp != self._stamp:
            with self._lock:
                full = read_token(self.paths) or self._tokens.full
                self._tokens = Tokens(full, read_token(self.paths, read_only=True), read_token(self.paths, scrape=True))
                self._stamp = stamp
        return self._tokens

    def secrets(self) -> list[str]:
        tokens = self.current()
        return [t for t in (tokens.full, tokens.read_only, tokens.scrape) if t]
