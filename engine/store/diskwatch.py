"""Whether this process's writes to the database currently fail for lack of disk space.

Writers that run again and again (the heartbeat, checks, the job log) report here instead of
logging a traceback per failure: the first disk-full failure logs one warning, repeats are
quiet, and the next successful write logs one line and clears the state. Health shows
``problem`` while it is set.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from engine.store.db import DiskFull, disk_full_error

log = logging.getLogger(__name__)


class DiskWatch:
    """The disk-full state of one process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._error: DiskFull | None = None

    def failed(self, exc: BaseException, db_path: Path | str) -> DiskFull:
        """Record a disk-full failure of a write to ``db_path``; return the error to report."""
        err = exc if isinstance(exc, DiskFull) else disk_full_error(db_path)
        with self._lock:
            first = self._error is None
            self._error = err
        if first:
            log.warning("%s: database writes fail until space is freed", err)
        return err

    def succeeded(self) -> None:
        """A write went through: clear the state (one log line when it was set)."""
        with self._lock:
            was, self._error = self._error, None
        if was is not None:
            log.warning("disk space is back: database writes succeed again (was: %s)", was)

    @property
    def problem(self) -> str | None:
        """``disk full: N MB free at FOLDER`` while writes fail, else None."""
        err = self._error
        return str(err) if err is not None else None


DISK = DiskWatch()
