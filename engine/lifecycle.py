"""One running instance per data dir, and a clean way out.

The guarantee is an OS-held lock on ``watchkeeper.lock`` (flock / msvcrt.locking): the kernel
releases it when the process dies, however it dies, so a stale file never blocks a restart.
The PID file (pid + process create time) is for diagnostics and orphan detection only; liveness
is checked with psutil matched by create time, never ``os.kill(pid, 0)`` (on Windows that sends
Ctrl+C to a process group).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from engine.paths import Paths
from engine.platform import current as platform

log = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    """Another instance holds the lock for this data dir."""

    def __init__(self, pid: int | None):
        self.pid = pid
        who = f"PID {pid}" if pid else "an unknown process"
        super().__init__(f"Watchkeeper is already running for this data folder ({who})")


@dataclass(frozen=True)
class PidInfo:
    """What the PID file says about the lock holder."""

    pid: int
    create_time: float | None


def process_create_time(pid: int) -> float | None:
    """The OS create time of ``pid`` (None when it is gone or hidden)."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def pid_alive(info: PidInfo) -> bool:
    """True when the process in ``info`` still exists (same pid AND same create time)."""
    import psutil

    try:
        proc = psutil.Process(info.pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return info.create_time is None or abs(proc.create_time() - info.create_time) < 0.01
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def read_pid_file(path: Path) -> PidInfo | None:
    """Parse the PID file; None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PidInfo(pid=int(data["pid"]), create_time=data.get("create_time"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class InstanceLock:
    """The single-instance guarantee for one data dir."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock and write the PID file, or raise AlreadyRunning naming the holder."""
        self.paths.data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.paths.lock_file, "a+b")  # noqa: SIM115 - kept open while we run
        if not platform.try_lock(handle):
            handle.close()
            holder = read_pid_file(self.paths.pid_file)
            raise AlreadyRunning(holder.pid if holder else None)
        self._handle = handle
        me = os.getpid()
        payload = {"pid": me, "create_time": process_create_time(me), "exe": sys.executable}
        tmp = self.paths.pid_file.with_suffix(".pid.tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, self.paths.pid_file)

    def release(self) -> None:
        """Remove the PID file (if it is ours) and drop the lock. Safe to call twice."""
        if self._handle is None:
            return
        self._remove_pid_file()
        try:
            platform.unlock(self._handle)
        finally:
            self._handle.close()
            self._handle = None


    def release_at_exit(self) -> None:
        """Remove the PID file and keep the lock: the process is about to end, and the OS releases
        the lock as it goes, so this process never lives on after the lock is free."""
        if self._handle is not None:
            self._remove_pid_file()

    def _remove_pid_file(self) -> None:
        info = read_pid_file(self.paths.pid_file)
        if info and info.pid == os.getpid():
            try:
                self.paths.pid_file.unlink()
            except OSError:
                log.warning("could not remove PID file %s", self.paths.pid_file)


def is_locked(paths: Paths) -> bool:
    """True when some process holds the instance lock (probe by trying to take it)."""
    if not paths.lock_file.exists():
        return False
    with open(paths.lock_file, "a+b") as handle:
        if platform.try_lock(handle):
            platform.unlock(handle)
            return False
        return True


def running_instance(paths: Paths) -> PidInfo | None:
    """The live lock holder, or None when no instance runs."""
    if not is_locked(paths):
        return None
    info = read_pid_file(paths.pid_file)
    return info if info is not None else PidInfo(pid=0, create_time=None)


def _looks_like_watchkeeper(cmdline: Iterable[str]) -> bool:
    parts = [os.path.basename(p).lower() for p in cmdline]
    if not parts:
        return False
    if parts[0].startswith("watchkeeper"):
        return True
    joined = " ".join(parts[:4])
    return "watchkeeper" in joined or "engine.cli" in joined or "-m tray" in " ".join(cmdline)


def _process_home(environ: dict[str, str]) -> str | None:
    home = environ.get("WATCHKEEPER_HOME")
    return str(Path(home).expanduser().resolve()) if home else None


def find_orphans(paths: Paths, own_pid: int | None = None) -> list[PidInfo]:
    """Other watchkeeper processes for this data dir that do not hold the lock.

    Matched by command line and WATCHKEEPER_HOME; the holder is the PID file's pid with the
    same create time. Our own process, its parent and its children (PyInstaller's bootloader
    pair, a ``--kill-orphans`` helper) are never reported.
    """
    import psutil

    own_pid = os.getpid() if own_pid is None else own_pid
    holder = read_pid_file(paths.pid_file) if is_locked(paths) else None
    ours = {own_pid}
    try:
        me = psutil.Process(own_pid)
        ours.update(p.pid for p in me.parents())
        ours.update(c.pid for c in me.children(recursive=True))
    except psutil.Error:
        pass
    my_home = str(paths.data_dir.parent) if os.environ.get("WATCHKEEPER_HOME") else None
    found: list[PidInfo] = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            if proc.info["pid"] in ours or not _looks_like_watchkeeper(proc.info["cmdline"] or []):
                continue
            if holder and holder.pid == proc.info["pid"]:
                continue
            if _process_home(proc.environ()) != my_home:
                continue
            found.append(PidInfo(pid=proc.info["pid"], create_time=proc.info["create_time"]))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def kill_orphans(orphans: Iterable[PidInfo], timeout: float = 5.0) -> list[int]:
    """Terminate (then kill) each orphan that is still the same process; return the pids ended."""
    import psutil

    procs = []
    for info in orphans:
        if not pid_alive(info):
            continue
        try:
            proc = psutil.Process(info.pid)
            proc.terminate()
            procs.append(proc)
        except psutil.Error:
            continue
    gone, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=timeout)
    return [p.pid for p in procs]
