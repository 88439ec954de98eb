"""Watching config.toml: a small thread that notices an edit (size, mtime and content hash,
polled every couple of seconds; no new dependency) and calls back, so the running instance
applies it within seconds."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # hashed at most this much; a larger file is still noticed by size/mtime

Fingerprint = tuple[int, int, str] | None


def fingerprint(path: Path) -> Fingerprint:
    """(size, mtime_ns, sha256) of ``path``; None when it does not exist or cannot be read."""
    try:
        st = path.stat()
        with path.open("rb") as handle:
            digest = hashlib.sha256(handle.read(MAX_CONFIG_BYTES)).hexdigest()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, digest


def _stat_stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What a write to ``path`` changes (size, mtime, ctime, inode; a rename over it too), without reading it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class ConfigWatcher:
    """Calls ``on_change()`` from its thread when ``path``'s fingerprint changes (edit, creation, removal)."""

    def __init__(self, path: Path, on_change: Callable[[], object], interval: float | None = None):
        self.path = path
        self.on_change = on_change
        self.interval = POLL_SECONDS if interval is None else interval
        self._stamp, self._last = _stat_stamp(path), fingerprint(path)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="config-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def mark_seen(self) -> None:
        """The file as it is now has been applied (after an explicit reload): no second reload for it."""
        self._stamp, self._last = _stat_stamp(self.path), fingerprint(self.path)

    def close(self) -> None:
        self._closed.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(self.interval + 1.0)

    def _watch(self) -> None:
        while not self._closed.wait(self.interval):
            stamp = _stat_stamp(self.path)
            if stamp == self._stamp:  # an idle poll is one stat(); the file is read and hashed only after a change
                continue
            self._stamp = stamp
            current = fingerprint(self.path)
            if current == self._last:
                continue
            self._last = current
            try:
                self.on_change()
            except Exception:  # the watcher keeps watching whatever one reload did
                log.exception("applying the edited config failed")
