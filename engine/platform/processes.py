"""Facts about OS processes the lock, the orphan search and the archive's run records share:
which process a PID names (PID + create time, so a reused PID is told apart) and whether it lives."""

from __future__ import annotations

from dataclasses import dataclass


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
