"""POSIX leaves: the instance file lock (flock), opening paths, console handlers (none).

Private files and folders (0600/0700) are engine.privatefile's job."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import IO


def try_lock(handle: IO[bytes]) -> bool:
    """Take an exclusive, non-blocking lock on an open file; the kernel drops it when we die."""
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def unlock(handle: IO[bytes]) -> None:
    """Release the lock taken by try_lock."""
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def install_console_handler(callback: Callable[[], None]) -> bool:
    """Console close is delivered as SIGHUP on POSIX; the caller installs signal handlers."""
    return False


def open_path(path: str) -> None:
    """Open a file or folder with the desktop's default application."""
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def show_error(title: str, text: str,
               run: Callable[[list[str], float], tuple[int, str, str]] | None = None) -> None:
    """A desktop notification of an error, best effort (notify-send; osascript on macOS): the
    windowed build has no console to print to. Nothing is raised when no notification service exists."""
    if sys.platform == "darwin":
        script = f"display notification {_applescript(text)} with title {_applescript(title)}"
        args = ["osascript", "-e", script]
    else:
        args = ["notify-send", "--urgency=critical", "--app-name=Watchkeeper", title, text]
    (run or run_hidden)(args, 10.0)


def _applescript(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_hidden(args: list[str], timeout: float = 60.0, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run a console tool (e.g. ``crontab -l``) and capture it; (returncode, stdout, stderr).

    POSIX has no console window to hide; the name matches windows.run_hidden. A missing tool is
    returncode 127 (the shell's convention) and a timeout a failure: neither is raised."""
    try:
        proc = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL, env=env)
    except FileNotFoundError as exc:
        return 127, "", f"{args[0]}: {exc.strerror or exc}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, "", f"{args[0]}: {exc}"
    return proc.returncode, proc.stdout, proc.stderr
