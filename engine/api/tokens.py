"""API tokens: random secrets in the data dir, readable only by the user.

``api-token`` (full access) is created at first run; ``api-token-readonly`` (GET only) exists
only once asked for (``watchkeeper api token --read-only``). A running server notices a new or
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


def token_file(paths: Paths, read_only: bool = False) -> Path:
    return paths.data_dir / (READ_ONLY_FILE if read_only else FULL_FILE)


def read_token(paths: Paths, read_only: bool = False) -> str | None:
    """The stored token, or None when there is none (or the file is empty)."""
    try:
        value = token_file(paths, read_only).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


def ensure_token(paths: Paths, read_only: bool = False, rotate: bool = False) -> str:
    """The token, created (or replaced, with ``rotate``) when needed."""
    current = None if rotate else read_token(paths, read_only)
    if current:
        tighten_private_file(token_file(paths, read_only))  # one written by an older version may be 0644
        return current
    value = secrets.token_urlsafe(32)
    write_private_file(token_file(paths, read_only), value + "\n")
    return value


@dataclass(frozen=True)
class Tokens:
    full: str
    read_only: str | None


class TokenStore:
    """The tokens a server accepts, reloaded when a token file changes (a stat per request)."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._tokens = Tokens(ensure_token(paths), read_token(paths, read_only=True))
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int]:
        stamps = []
        for read_only in (False, True):
            try:
                stamps.append(token_file(self.paths, read_only).stat().st_mtime_ns)
            except OSError:
                stamps.append(0)
        return stamps[0], stamps[1]

    def current(self) -> Tokens:
        stamp = self._stat()
        if stamp != self._stamp:
            with self._lock:
                full = read_token(self.paths) or self._tokens.full
                self._tokens = Tokens(full, read_token(self.paths, read_only=True))
                self._stamp = stamp
        return self._tokens

    def secrets(self) -> list[str]:
        tokens = self.current()
        return [t for t in (tokens.full, tokens.read_only) if t]
