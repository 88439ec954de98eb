"""Windows leaves. Every Windows-only module is imported inside the function that needs it,
so this file imports (and its pure parts test) on Linux too."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

# Console control events (wincon.h).
CTRL_C_EVENT = 0
CTRL_BREAK_EVENT = 1
CTRL_CLOSE_EVENT = 2
CTRL_LOGOFF_EVENT = 5
CTRL_SHUTDOWN_EVENT = 6
SHUTDOWN_EVENTS = frozenset(
    {CTRL_C_EVENT, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT}
)

_keep_alive: list[Any] = []  # ctypes callbacks must stay referenced for the process lifetime


def try_lock(handle: IO[bytes]) -> bool:
    """Lock the first byte of an open file with msvcrt.locking (LK_NBLCK); released on exit."""
    import msvcrt

    try:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    except OSError:
        return False
    return True


def unlock(handle: IO[bytes]) -> None:
    """Release the lock taken by try_lock."""
    import msvcrt

    handle.seek(0)
    msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


def console_event_means_shutdown(event: int) -> bool:
    """Which console control events end Watchkeeper gracefully (all of them)."""
    return event in SHUTDOWN_EVENTS


def install_console_handler(
    callback: Callable[[], None], kernel32: Any = None
) -> bool:
    """SetConsoleCtrlHandler through ctypes: run ``callback`` on Ctrl+C, close, logoff, shutdown.

    Only console processes receive these (a windowed exe relies on the tray window instead).
    ``kernel32`` is injectable for tests; returns whether the handler was installed.
    """
    import ctypes

    if kernel32 is None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handler_type = ctypes.WINFUNCTYPE(ctypes.c_int, ctypes.c_uint)  # type: ignore[attr-defined]

    def handler(event: int) -> int:
        if console_event_means_shutdown(event):
            callback()
            return 1
        return 0

    c_handler = handler_type(handler)
    _keep_alive.append(c_handler)
    return bool(kernel32.SetConsoleCtrlHandler(c_handler, 1))


def open_path(path: str) -> None:
    """Open a file or folder with its default application."""
    os.startfile(path)  # type: ignore[attr-defined]


def make_private(path: str) -> None:
    """Files under %LOCALAPPDATA% are already private to the user; nothing more to do."""
    return None
