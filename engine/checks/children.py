"""The child processes that command checks started and that still run, so shutdown can kill them.

A check's worker thread can be abandoned (it timed out, or the engine stops); its program must
not outlive it. Each CheckService owns a registry: ``run_command`` adds its process while it runs,
and ``close()`` kills every registered process tree and refuses new ones from then on.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

log = logging.getLogger(__name__)


class ShuttingDown(Exception):
    """The registry is closed: no new child process may start."""


def popen_group_options() -> dict[str, Any]:
    """Popen arguments that put the child in its own process group (POSIX) so its whole tree can be
    killed, even grandchildren already re-parented; no console window on Windows."""
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NO_WINDOW", 0)}
    return {"start_new_session": True}


def kill_tree(proc: subprocess.Popen[Any]) -> None:
    """Kill ``proc``, its descendants and (POSIX) its process group. Never raises."""
    import psutil

    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    if sys.platform != "win32":
        # The group id is the child's pid, still reserved until we reap it (we have not yet), so it
        # cannot name an unrelated group. This reaches grandchildren whose parent already exited.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
    except OSError:
        pass


class ChildRegistry:
    """Live child processes of command checks; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[Any]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def add(self, proc: subprocess.Popen[Any]) -> None:
        """Track ``proc``; when the registry is closed, kill it at once and raise ShuttingDown."""
        with self._lock:
            if not self._closed:
                self._live.add(proc)
                return
        kill_tree(proc)
        raise ShuttingDown("the engine is shutting down")

    def discard(self, proc: subprocess.Popen[Any]) -> None:
        """Stop tracking ``proc`` (it ended and was reaped)."""
        with self._lock:
            self._live.discard(proc)

    def live_pids(self) -> list[int]:
        """The pids of the tracked processes."""
        with self._lock:
            return sorted(p.pid for p in self._live)

    def close(self) -> list[int]:
        """Refuse new children and kill the tree of every live one; return their pids."""
        with self._lock:
            self._closed = True
            procs, self._live = list(self._live), set()
        for proc in procs:
            log.warning("killing the program of a check still running at shutdown (pid %d)", proc.pid)
            kill_tree(proc)
        return [p.pid for p in procs]


# Used when a command check runs outside a CheckService (tests, direct calls); never closed.
DEFAULT_REGISTRY = ChildRegistry()
