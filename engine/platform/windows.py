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


MB_OK_ICONERROR_FOREGROUND = 0x00000000 | 0x00000010 | 0x00010000  # MB_OK | MB_ICONERROR | MB_SETFOREGROUND


def show_error(title: str, text: str, user32: Any = None) -> None:
    """A modal error message box (MessageBoxW): how the windowed exe, which has no console, tells
    the user why it cannot start. ``user32`` is injectable for tests."""
    import ctypes

    if user32 is None:
        user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
    user32.MessageBoxW(None, text, title, MB_OK_ICONERROR_FOREGROUND)


# -- start at login (engine.platform.startup): schtasks runner, Run-key leaf, current user ------------------

CREATE_NO_WINDOW = 0x08000000


def run_hidden(args: list[str], timeout: float = 60.0) -> tuple[int, str, str]:
    """Run a console tool (schtasks.exe) without flashing a window; (returncode, stdout, stderr).

    A missing tool or a timeout is reported as a failure, never raised."""
    import subprocess

    try:
        proc = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout,
                              creationflags=CREATE_NO_WINDOW, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, "", f"{args[0]}: {exc}"
    return proc.returncode, proc.stdout, proc.stderr


def current_user_id(env: dict[str, str] | None = None) -> str:
    """``DOMAIN\\user`` of the logged-on user (the Task Scheduler principal and trigger user)."""
    env = dict(os.environ) if env is None else env
    user = env.get("USERNAME") or ""
    if not user:
        import getpass

        user = getpass.getuser()
    domain = env.get("USERDOMAIN") or env.get("COMPUTERNAME") or ""
    return f"{domain}\\{user}" if domain else user


class RunKeyLeaf:
    """One string value under a per-user (HKEY_CURRENT_USER) key, e.g. the Run key."""

    def __init__(self, key_path: str) -> None:
        self.key_path = key_path

    def get(self, name: str) -> str | None:
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self.key_path) as key:  # type: ignore[attr-defined]
                value, _kind = winreg.QueryValueEx(key, name)  # type: ignore[attr-defined]
        except FileNotFoundError:
            return None
        return str(value)

    def set(self, name: str, value: str) -> None:
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, self.key_path, 0,  # type: ignore[attr-defined]
                                winreg.KEY_SET_VALUE) as key:  # type: ignore[attr-defined]
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)  # type: ignore[attr-defined]

    def delete(self, name: str) -> bool:
        """Remove the value; False when it was not there."""
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self.key_path, 0,  # type: ignore[attr-defined]
                                winreg.KEY_SET_VALUE) as key:  # type: ignore[attr-defined]
                winreg.DeleteValue(key, name)  # type: ignore[attr-defined]
        except FileNotFoundError:
            return False
        return True


# -- login-startup entries (engine.checks.autostart_entries) ---------------------------------------


def registry_values(hive: str, key_path: str, view: int = 0) -> list[tuple[str, str]]:
    """The (name, value as text) pairs under ``hive`` ("HKCU" or "HKLM") ``key_path``; [] when the
    key does not exist. ``view`` 64 or 32 reads that registry view (KEY_WOW64_*), 0 the default."""
    import winreg

    roots = {"HKCU": winreg.HKEY_CURRENT_USER, "HKLM": winreg.HKEY_LOCAL_MACHINE}  # type: ignore[attr-defined]
    views = {64: winreg.KEY_WOW64_64KEY, 32: winreg.KEY_WOW64_32KEY}  # type: ignore[attr-defined]
    root, access = roots[hive], winreg.KEY_READ | views.get(view, 0)  # type: ignore[attr-defined]
    values: list[tuple[str, str]] = []
    try:
        with winreg.OpenKey(root, key_path, 0, access) as key:  # type: ignore[attr-defined]
            index = 0
            while True:
                try:
                    name, value, _kind = winreg.EnumValue(key, index)  # type: ignore[attr-defined]
                except OSError:  # ERROR_NO_MORE_ITEMS
                    break
                values.append((str(name), str(value)))
                index += 1
    except FileNotFoundError:
        return []
    return values


# -- presence (engine.platform.presence): idle time and the notification state ----------------------

# SHQueryUserNotificationState answers (shellapi.h QUERY_USER_NOTIFICATION_STATE).
QUNS_NOT_PRESENT = 1  # locked, a screen saver runs, or another user is switched in
QUNS_BUSY = 2
QUNS_RUNNING_D3D_FULL_SCREEN = 3
QUNS_PRESENTATION_MODE = 4
QUNS_ACCEPTS_NOTIFICATIONS = 5
QUNS_QUIET_TIME = 6
QUNS_APP = 7
QUIET_REASONS = {
    QUNS_BUSY: "a full-screen application or presentation settings",
    QUNS_RUNNING_D3D_FULL_SCREEN: "a full-screen game",
    QUNS_PRESENTATION_MODE: "presentation mode",
    QUNS_QUIET_TIME: "Focus assist / quiet time",
}


def idle_seconds(tick_count: int, last_input_tick: int) -> float:
    """Seconds since the last input from GetTickCount and LASTINPUTINFO.dwTime: both are 32-bit
    millisecond counters that wrap after 49.7 days, so the difference is taken modulo 2**32."""
    return ((tick_count - last_input_tick) & 0xFFFFFFFF) / 1000.0


def notification_state_meaning(state: int) -> tuple[bool | None, str | None]:
    """(locked, quiet reason) of a QUERY_USER_NOTIFICATION_STATE value; (None, None) when unknown."""
    if state == QUNS_NOT_PRESENT:
        return True, None
    if state in QUIET_REASONS:
        return False, QUIET_REASONS[state]
    if state in (QUNS_ACCEPTS_NOTIFICATIONS, QUNS_APP):
        return False, None
    return None, None


def read_presence(user32: Any = None, kernel32: Any = None, shell32: Any = None) -> dict[str, Any]:
    """The fields of a PresenceReading (engine.platform.presence builds it: the leaves do not import
    each other) from GetLastInputInfo, GetTickCount and SHQueryUserNotificationState, the DLLs
    injectable for tests. A failing call is an ``error`` field, never raised."""
    import ctypes

    class LASTINPUTINFO(ctypes.Structure):
        _fields_ = [("cbSize", ctypes.c_uint32), ("dwTime", ctypes.c_uint32)]

    try:
        if user32 is None:
            user32 = ctypes.WinDLL("user32")  # type: ignore[attr-defined]
        if kernel32 is None:
            kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]
            kernel32.GetTickCount.restype = ctypes.c_uint32
        if shell32 is None:
            shell32 = ctypes.WinDLL("shell32")  # type: ignore[attr-defined]
        info = LASTINPUTINFO()
        info.cbSize = ctypes.sizeof(LASTINPUTINFO)
        if not user32.GetLastInputInfo(ctypes.byref(info)):
            return dict(error="GetLastInputInfo failed")
        idle = idle_seconds(int(kernel32.GetTickCount()), int(info.dwTime))
        state = ctypes.c_int(0)
        if shell32.SHQueryUserNotificationState(ctypes.byref(state)) != 0:  # an HRESULT: 0 is S_OK
            return dict(idle_seconds=idle, source="windows",
                                   error="SHQueryUserNotificationState failed")
        locked, quiet = notification_state_meaning(state.value)
        return dict(idle_seconds=idle, locked=locked, quiet=quiet, source="windows")
    except Exception as exc:  # OSError from a missing DLL or export, ctypes errors
        return dict(error=f"Windows presence calls failed: {type(exc).__name__}")
