"""Presence leaves: how long since the person last touched this machine, and whether the session
is locked. One reader per platform, each bounded and never raising: a leaf that cannot answer
says why in ``PresenceReading.error``, and the caller treats the person as unknown.

- Windows: ``GetLastInputInfo`` and the notification state (engine/platform/windows.py).
- Linux/BSD with X11: the MIT-SCREEN-SAVER extension through python-xlib (idle time, and a
  screen saver that is on counts as locked); without X11, the D-Bus screen saver interface.
- macOS: the HID idle time (``ioreg -c IOHIDSystem``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PresenceReading:
    """What one leaf read. ``None`` fields were not readable there."""

    idle_seconds: float | None = None  # since the last keyboard or mouse input
    locked: bool | None = None  # the session is locked or its screen saver is on
    quiet: str | None = None  # the OS shows no notifications now, and why (e.g. presentation mode)
    source: str = "none"  # which leaf answered: "windows", "x11", "dbus-screensaver", "macos", "none"
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


def read_presence(env: Mapping[str, str] | None = None, platform: str | None = None,
                  readers: Mapping[str, Callable[..., PresenceReading]] | None = None) -> PresenceReading:
    """This machine's presence reading from the first leaf that answers (the leaves injectable)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    leaves: dict[str, Callable[..., PresenceReading]] = {"x11": read_x11, **(readers or {})}
    if platform.startswith("linux") or "bsd" in platform:
        if env.get("DISPLAY"):
            return leaves["x11"](env["DISPLAY"])
        return PresenceReading(error="no X display (DISPLAY is not set)")
    return PresenceReading(error=f"no presence source on {platform}")
