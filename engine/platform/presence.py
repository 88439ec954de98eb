"""Presence leaves: how long since the person last touched this machine, and whether the session
is locked. One reader per platform, each bounded and never raising: a leaf that cannot answer
says why in ``PresenceReading.error``, and the caller treats the person as unknown.

- Windows: ``GetLastInputInfo`` and the notification state (engine/platform/windows.py).
- Linux/BSD with X11: the MIT-SCREEN-SAVER extension through python-xlib (idle time, and a
  screen saver that is on counts as locked); without X11, the D-Bus screen saver interface.
- macOS: the HID idle time (``ioreg -c IOHIDSystem``).

The command-line leaves (ioreg, gdbus, dbus-send) run through ``run_bounded``: a timeout of
LEAF_TIMEOUT seconds and at most MAX_OUTPUT bytes read, so a hung or chatty tool cannot stall the
caller (the status, routing) or fill its memory.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PresenceReading:
    """What one leaf read. ``None`` fields were not readable there."""

    idle_seconds: float | None = None  # since the last keyboard or mouse input
    locked: bool | None = None  # the session is locked or its screen saver is on
    quiet: str | None = None  # the OS shows no notifications now, and why (e.g. presentation mode)
    source: str = "none"  # which leaf answered: "windows", "x11", "dbus-mutter", "dbus-screensaver", "macos", "none"
    error: str | None = None  # why no leaf answered


def read_x11(display_name: str) -> PresenceReading:
    """Idle time and screen-saver state of an X display (MIT-SCREEN-SAVER)."""
    try:
        from Xlib import display as xdisplay
        from Xlib.ext import screensaver
    except ImportError:
        return PresenceReading(error="python-xlib is not installed")
    try:
        conn = xdisplay.Display(display_name)
    except Exception as exc:  # Xlib raises its own error family and OSError on a refused display
        return PresenceReading(error=f"cannot open X display {display_name}: {type(exc).__name__}")
    try:
        if not conn.has_extension("MIT-SCREEN-SAVER"):
            return PresenceReading(error=f"X display {display_name} has no MIT-SCREEN-SAVER extension")
        info = conn.screen().root.screensaver_query_info()  # the extension adds it to drawables
        on = info.state in (screensaver.StateOn, screensaver.StateCycle)  # StateOff, or 3: disabled
        return PresenceReading(idle_seconds=info.idle / 1000.0, locked=on, source="x11")
    except Exception as exc:  # a display that goes away mid-query
        return PresenceReading(error=f"X display {display_name} did not answer: {type(exc).__name__}")
    finally:
        conn.close()



LEAF_TIMEOUT = 2.0  # seconds one command-line leaf may take
MAX_OUTPUT = 256 * 1024  # bytes read from one leaf's output (ioreg -d 4 prints tens of KiB)

# (argv, timeout, env) -> (returncode, stdout): 127 when the tool is missing, non-zero on a timeout.
Runner = Callable[[Sequence[str], float, Mapping[str, str] | None], tuple[int, str]]


def run_bounded(argv: Sequence[str], timeout: float = LEAF_TIMEOUT,
                env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run ``argv`` with its output capped at MAX_OUTPUT bytes and killed after ``timeout`` seconds;
    (returncode, stdout). Never raises: a missing tool is 127, a timeout or overflow -9 / 1."""
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=dict(env) if env is not None else None)
    except FileNotFoundError:
        return 127, f"{argv[0]}: not installed"
    except OSError as exc:
        return 126, f"{argv[0]}: {exc.strerror or exc}"
    assert proc.stdout is not None
    chunks: list[bytes] = []
    size, deadline = 0, time.monotonic() + timeout
    try:
        while size <= MAX_OUTPUT:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, left))
            if not ready:
                return -9, f"{argv[0]}: no answer within {timeout:g} s"
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        else:
            return 1, f"{argv[0]}: more than {MAX_OUTPUT} bytes of output"
        try:
            code = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return -9, f"{argv[0]}: did not exit within {timeout:g} s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return code, b"".join(chunks).decode("utf-8", "replace")


# -- macOS ----------------------------------------------------------------------------------------

_HID_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')


def parse_hid_idle(text: str) -> float | None:
    """Seconds of HID idle time from ``ioreg -c IOHIDSystem`` output (the value is in nanoseconds)."""
    match = _HID_IDLE.search(text)
    return int(match.group(1)) / 1e9 if match else None


def read_macos(run: Runner = run_bounded) -> PresenceReading:
    """The HID idle time on macOS (``ioreg -c IOHIDSystem -d 4``)."""
    code, out = run(["ioreg", "-c", "IOHIDSystem", "-d", "4"], LEAF_TIMEOUT, None)
    idle = parse_hid_idle(out) if code == 0 else None
    if idle is None:
        why = _first_line(out) if code != 0 else "no HIDIdleTime in its output"
        return PresenceReading(error=f"ioreg: {why}")
    return PresenceReading(idle_seconds=idle, source="macos")


# -- D-Bus (Linux without a working X display: Wayland, or a session bus only) ---------------------

MUTTER = ("org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core", "org.gnome.Mutter.IdleMonitor")
SCREENSAVER = ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver")
_UINT = re.compile(r"\buint(?:32|64)\s+(\d+)")
_BOOL = re.compile(r"\b(true|false)\b")


def _first_line(text: str, limit: int = 160) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "no output")
    return line[:limit]


def _dbus_problem(out: str) -> str:
    if "ServiceUnknown" in out or "NameHasNoOwner" in out or "was not provided" in out:
        return "not on the session bus"
    if "UnknownMethod" in out:
        return "does not have that method"
    return _first_line(out)


def dbus_call(service: tuple[str, str, str], method: str, env: Mapping[str, str] | None,
              run: Runner = run_bounded) -> tuple[str | None, str]:
    """Call ``method`` (no arguments) on the session bus with gdbus, or dbus-send when gdbus is
    missing; (reply text or None, why not)."""
    dest, path, iface = service
    code, out = run(["gdbus", "call", "--session", "--dest", dest, "--object-path", path,
                     "--method", f"{iface}.{method}", "--timeout", str(int(LEAF_TIMEOUT))], LEAF_TIMEOUT + 0.5, env)
    if code == 127:
        code, out = run(["dbus-send", "--session", "--print-reply", f"--reply-timeout={int(LEAF_TIMEOUT * 1000)}",
                         f"--dest={dest}", path, f"{iface}.{method}"], LEAF_TIMEOUT + 0.5, env)
    if code != 0:
        return None, _dbus_problem(out)
    return out, ""


def parse_dbus_uint(reply: str) -> int | None:
    """The first unsigned integer of a gdbus (``(uint64 1234,)``) or dbus-send (``uint64 1234``) reply."""
    match = _UINT.search(reply)
    return int(match.group(1)) if match else None


def parse_dbus_bool(reply: str) -> bool | None:
    """The first boolean of a gdbus (``(true,)``) or dbus-send (``boolean true``) reply."""
    match = _BOOL.search(reply)
    return match.group(1) == "true" if match else None


def read_mutter(env: Mapping[str, str] | None = None, run: Runner = run_bounded) -> PresenceReading:
    """GNOME's idle time (X11 and Wayland): ``org.gnome.Mutter.IdleMonitor.GetIdletime`` in ms."""
    reply, why = dbus_call(MUTTER, "GetIdletime", env, run)
    idle = parse_dbus_uint(reply) if reply is not None else None
    if idle is None:
        return PresenceReading(error=f"Mutter IdleMonitor: {why or 'unexpected reply'}")
    return PresenceReading(idle_seconds=idle / 1000.0, source="dbus-mutter")


def read_screensaver(env: Mapping[str, str] | None = None, run: Runner = run_bounded) -> PresenceReading:
    """``org.freedesktop.ScreenSaver`` (KDE and others): GetActive (on counts as locked), then
    GetSessionIdleTime, in milliseconds as KDE answers it (KIdleTime); it may be 0 while not active."""
    reply, why = dbus_call(SCREENSAVER, "GetActive", env, run)
    active = parse_dbus_bool(reply) if reply is not None else None
    if active is None:
        return PresenceReading(error=f"freedesktop ScreenSaver: {why or 'unexpected reply'}")
    if active:
        return PresenceReading(locked=True, source="dbus-screensaver")
    reply, _why = dbus_call(SCREENSAVER, "GetSessionIdleTime", env, run)
    idle = parse_dbus_uint(reply) if reply is not None else None
    return PresenceReading(idle_seconds=None if idle is None else idle / 1000.0, locked=False,
                           source="dbus-screensaver")


def has_session_bus(env: Mapping[str, str]) -> bool:
    """A D-Bus session bus is named in the environment or sits at its default place."""
    if env.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = env.get("XDG_RUNTIME_DIR")
    return runtime is not None and runtime != "" and Path(runtime, "bus").exists()


def read_linux(env: Mapping[str, str], readers: Mapping[str, Callable[..., PresenceReading]]) -> PresenceReading:
    """X11 when DISPLAY is set and answers, then Mutter, then the freedesktop ScreenSaver: the first
    that answers wins; all failing gives an error naming each reason."""
    reasons: list[str] = []
    if env.get("DISPLAY"):
        reading = readers["x11"](env["DISPLAY"])
        if reading.error is None:
            return reading
        reasons.append(reading.error)
    else:
        reasons.append("no X display (DISPLAY is not set)")
    if not has_session_bus(env):
        reasons.append("no D-Bus session bus")
        return PresenceReading(error="; ".join(reasons))
    for name in ("dbus-mutter", "dbus-screensaver"):
        reading = readers[name](env)
        if reading.error is None:
            return reading
        reasons.append(reading.error)
    return PresenceReading(error="; ".join(reasons))


def _read_windows() -> PresenceReading:
    from engine.platform import windows

    return PresenceReading(**windows.read_presence())


def read_presence(env: Mapping[str, str] | None = None, platform: str | None = None,
                  readers: Mapping[str, Callable[..., PresenceReading]] | None = None) -> PresenceReading:
    """This machine's presence reading from the first leaf that answers (the leaves injectable:
    "x11", "dbus-mutter", "dbus-screensaver", "macos", "windows"). Never raises."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    leaves: dict[str, Callable[..., PresenceReading]] = {
        "x11": read_x11, "dbus-mutter": read_mutter, "dbus-screensaver": read_screensaver,
        "macos": read_macos, "windows": _read_windows, **(readers or {})}
    try:
        if platform.startswith("linux") or "bsd" in platform:
            return read_linux(env, leaves)
        if platform == "darwin":
            return leaves["macos"]()
        if platform == "win32":
            return leaves["windows"]()
    except Exception as exc:  # a leaf is meant never to raise; the caller must not see it if one does
        return PresenceReading(error=f"presence leaf failed: {type(exc).__name__}")
    return PresenceReading(error=f"no presence source on {platform}")
