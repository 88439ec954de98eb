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
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from engine.paths import Paths
from engine.platform import current as platform
from engine.platform.processes import PidInfo, pid_alive, process_create_time

log = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    """Another instance holds the lock for this data dir."""

    def __init__(self, pid: int | None):
        self.pid = pid
        who = f"PID {pid}" if pid else "an unknown process"
        super().__init__(f"Watchkeeper is already running for this data folder ({who})")


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


_ENGINE_MODULES = {"engine", "engine.__main__", "engine.cli", "tray.main"}  # `python -m X ARGS` = `watchkeeper ARGS`
_GUI_MODULES = {"tray", "tray.app"}  # `python -m X ARGS` = `watchkeeperw ARGS` = `watchkeeper run ARGS`
_PYTHON = re.compile(r"^(python|pythonw|pypy)[0-9.]*w?(\.exe)?$|^pyw?(\.exe)?$")
_PYTHON_OPTS_WITH_VALUE = {"-W", "-X", "-Q"}  # interpreter options that take the next argument
_NOT_A_RUN = {"-h", "--help", "--version"}


def _program(path: str) -> str:
    """The program name of a command-line word, lower case, without folder or ``.exe``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def watchkeeper_args(cmdline: Sequence[str]) -> list[str] | None:
    """The arguments a command line passes to the `watchkeeper` command, or None when it does not
    run Watchkeeper (pure). The GUI entry (``watchkeeperw``, ``-m tray``) is given its implied
    ``run``. Forms: ``watchkeeper[w] ARGS`` (console script or one-file binary),
    ``python [opts] PATH/watchkeeper[w] ARGS`` and ``python [opts] -m engine|engine.cli|tray.main|tray ARGS``."""
    words = list(cmdline)
    if not words:
        return None
    program, rest = _program(words[0]), words[1:]
    if _PYTHON.match(program):
        i = 0
        while i < len(rest) and rest[i].startswith("-") and rest[i] != "-m":
            if rest[i] in ("-c", "-"):
                return None  # code given inline: not our entry point
            i += 2 if rest[i] in _PYTHON_OPTS_WITH_VALUE else 1
        if i >= len(rest):
            return None
        if rest[i] == "-m":
            module = rest[i + 1] if i + 1 < len(rest) else ""
            if module in _ENGINE_MODULES:
                return rest[i + 2:]
            return ["run", *rest[i + 2:]] if module in _GUI_MODULES else None
        program, rest = _program(rest[i]), rest[i + 1:]
    if program == "watchkeeper":
        return rest
    return ["run", *rest] if program == "watchkeeperw" else None


def is_engine_instance(cmdline: Sequence[str]) -> bool:
    """True when the command line runs an engine instance: `watchkeeper run`, or `watchkeeper`
    with no command (the tray app), in any of the forms of watchkeeper_args (pure). Other
    commands (``archive run``, ``telegram setup``, ``status``) are never instances."""
    args = watchkeeper_args(cmdline)
    if args is None:
        return False
    for arg in args:
        if arg in _NOT_A_RUN:
            return False
        if not arg.startswith("-"):
            return arg == "run"
    return True  # no command: the default is run


def _process_home(environ: dict[str, str]) -> str | None:
    home = environ.get("WATCHKEEPER_HOME")
    return str(Path(home).expanduser().resolve()) if home else None


def _family(pid: int) -> set[int]:
    """``pid``, its ancestors and its descendants (the one-file bootloader pair, launchers)."""
    import psutil

    family = {pid}
    try:
        proc = psutil.Process(pid)
        family.update(p.pid for p in proc.parents())
        family.update(c.pid for c in proc.children(recursive=True))
    except psutil.Error:
        pass
    return family


def find_orphans(paths: Paths, own_pid: int | None = None) -> list[PidInfo]:
    """Engine instances for this data dir that do not hold the lock.

    An orphan runs the engine instance (is_engine_instance) with this WATCHKEEPER_HOME, and is
    neither the lock holder (the PID file's pid with the same create time) nor related to it or
    to us: the holder's and our own ancestors and descendants are never reported (PyInstaller's
    bootloader parent, a launcher, a ``--kill-orphans`` helper). Other watchkeeper commands (an
    ``archive run`` in another terminal) are never orphans. When the lock is held but the PID file
    does not name a live holder yet (an instance is starting), nothing is reported.
    """
    import psutil

    own_pid = os.getpid() if own_pid is None else own_pid
    spared = _family(own_pid)
    if is_locked(paths):
        holder = read_pid_file(paths.pid_file)
        if holder is None or not pid_alive(holder):
            return []
        spared |= _family(holder.pid)
    my_home = str(paths.data_dir.parent) if os.environ.get("WATCHKEEPER_HOME") else None
    found: list[PidInfo] = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            if proc.info["pid"] in spared or not is_engine_instance(proc.info["cmdline"] or []):
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
