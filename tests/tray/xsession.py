"""A throw-away X desktop for GUI tests and the tray benchmark.

Xvfb (on a display number it picks itself through ``-displayfd``), a private D-Bus session bus,
notification-daemon and trayer as the XEMBED tray host. Every start waits on a condition with a
timeout (never a fixed sleep); ``close()`` ends what was started, in reverse order.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from tests.helpers import wait_until

NOTIFICATION_DAEMONS = ("/usr/lib/notification-daemon/notification-daemon",
                        "/usr/libexec/notification-daemon")
TOOLS = ("Xvfb", "trayer", "xdotool", "import", "dbus-daemon", "dbus-send")
TRAY_HEIGHT = 32
TRAY_WIDTH = 160


def missing_tools() -> list[str]:
    """Which of the programs this harness needs are not installed."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if notification_daemon() is None:
        missing.append("notification-daemon")
    return missing


def notification_daemon() -> str | None:
    return next((p for p in NOTIFICATION_DAEMONS if os.access(p, os.X_OK)), None)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    """The first truthy ``predicate()``; TimeoutError naming ``what`` after ``timeout`` seconds."""
    try:
        return wait_until(predicate, timeout=timeout, interval=interval, message=what)
    except AssertionError as exc:
        raise TimeoutError(str(exc)) from None


class XSession:
    """Start with ``XSession().start()``; use ``env`` for child processes; ``close()`` at the end."""

    def __init__(self, width: int = 640, height: int = 480, log_dir: Path | None = None):
        self.width, self.height = width, height
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.display = ""
        self.env: dict[str, str] = {}
        self._xdisplay: Any = None

    # -- start ---------------------------------------------------------------------------------

    def start(self, tray: bool = True, notifications: bool = True) -> XSession:
        try:
            self._start_xvfb()
            self._start_dbus()
            if notifications:
                self._start_notifications()
            if tray:
                self._start_trayer()
        except BaseException:
            self.close()
            raise
        return self

    def _spawn(self, name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        if "stdout" not in kwargs:
            out: Any = subprocess.DEVNULL
            if self.log_dir is not None:
                out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed on exit
            kwargs.update(stdout=out, stderr=subprocess.STDOUT)
        proc = subprocess.Popen(argv, env=kwargs.pop("env", self.env or None), **kwargs)
        self.procs.append((name, proc))
        return proc

    def _start_xvfb(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self._spawn("xvfb", ["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                                 f"{self.width}x{self.height}x24", "-nolisten", "tcp", "-noreset"],
                        pass_fds=(write_fd,), env=dict(os.environ))
            os.close(write_fd)
            data = b""
            deadline = time.monotonic() + 15
            while not data.endswith(b"\n"):  # Xvfb writes the number, then "\n": read both
                ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
                chunk = os.read(read_fd, 64) if ready else b""
                if not chunk:
                    raise TimeoutError("Xvfb did not report a display number within 15 s")
                data += chunk
            number = data.decode().strip()
        finally:
            os.close(read_fd)
        if not number.isdigit():
            raise RuntimeError(f"Xvfb failed to start (displayfd said {number!r})")
        self.display = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.display}
        self.env.pop("WAYLAND_DISPLAY", None)
        from Xlib import display

        self._xdisplay = wait_for(self._try_open, 10, f"X display {self.display}")
        assert isinstance(self._xdisplay, display.Display)

    def _try_open(self) -> Any:
        from Xlib import display, error

        try:
            return display.Display(self.display)
        except (error.DisplayError, OSError):
            return None

    def _start_dbus(self) -> None:
        proc = self._spawn("dbus", ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        if not ready:
            raise TimeoutError("dbus-daemon did not print its address within 10 s")
        address = proc.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError("dbus-daemon failed to start")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address

    def bus_name_owned(self, name: str) -> bool:
        result = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
             "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
            env=self.env, capture_output=True, text=True, timeout=5)
        return "boolean true" in result.stdout

    def _start_notifications(self) -> None:
        daemon = notification_daemon()
        if daemon is None:
            raise RuntimeError("notification-daemon is not installed")
        self._spawn("notification-daemon", [daemon])
        wait_for(lambda: self.bus_name_owned("org.freedesktop.Notifications"), 15,
                 "org.freedesktop.Notifications on the session bus", interval=0.05)

    def start_trayer(self) -> None:
        """Start trayer now (a tray host that appears after the app); waits until it is drawn."""
        self._start_trayer()

    def _start_trayer(self) -> None:
        self._spawn("trayer", ["trayer", "--edge", "top", "--align", "left", "--widthtype", "pixel",
                               "--width", str(TRAY_WIDTH), "--heighttype", "pixel", "--height", str(TRAY_HEIGHT),
                               "--transparent", "false", "--SetDockType", "true", "--expand", "false"])
        from tray.app import x11_tray_host

        wait_for(lambda: x11_tray_host(self.display), 15, "trayer to own _NET_SYSTEM_TRAY_S0")
        # the selection is taken before the window is mapped: wait until the strip is painted
        wait_for(lambda: self.tray_strip().getextrema() != ((0, 0), (0, 0), (0, 0)), 10, "trayer to be drawn")

    # -- looking and clicking ---------------------------------------------------------------------

    def grab(self, box: tuple[int, int, int, int] | None = None) -> Image.Image:
        """RGB pixels of the root window (``box`` = left, top, right, bottom), via the X protocol."""
        from Xlib import X

        left, top, right, bottom = box or (0, 0, self.width, self.height)
        root = self._xdisplay.screen().root
        raw = root.get_image(left, top, right - left, bottom - top, X.ZPixmap, 0xFFFFFFFF)
        return Image.frombytes("RGB", (right - left, bottom - top), raw.data, "raw", "BGRX")

    def tray_strip(self) -> Image.Image:
        return self.grab((0, 0, TRAY_WIDTH, TRAY_HEIGHT))

    def screenshot(self, path: Path) -> Path:
        """A full-screen PNG taken with ImageMagick's ``import -window root``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True, timeout=30,
                       capture_output=True)
        return path

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, timeout=30, capture_output=True)

    def key(self, *keys: str, delay_ms: int = 60) -> None:
        self.xdotool("key", "--delay", str(delay_ms), *keys)

    def click(self, x: int, y: int, button: int) -> None:
        self.xdotool("mousemove", str(x), str(y), "click", str(button))

    def _pid_of(self, window: Any) -> int | None:
        prop = window.get_full_property(self._xdisplay.intern_atom("_NET_WM_PID"), 0)
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    def _box(self, window: Any) -> tuple[int, int, int, int]:
        geom = window.get_geometry()
        origin = window.translate_coords(self._xdisplay.screen().root, 0, 0)
        return (-origin.x, -origin.y, -origin.x + geom.width, -origin.y + geom.height)

    def tray_icon_box(self, pid: int) -> tuple[int, int, int, int] | None:
        """Screen box of the window that process ``pid`` docked into the tray host, if mapped."""
        from Xlib import X, error

        def walk(window: Any, depth: int) -> tuple[int, int, int, int] | None:
            try:
                children = window.query_tree().children
            except error.XError:
                return None
            for child in children:
                try:
                    attrs = child.get_attributes()
                    if depth > 0 and attrs.map_state == X.IsViewable and self._pid_of(child) == pid:
                        box = self._box(child)
                        if box[2] - box[0] >= 8 and box[3] - box[1] >= 8:
                            return box
                except error.XError:
                    continue
                found = walk(child, depth + 1)
                if found:
                    return found
            return None

        return walk(self._xdisplay.screen().root, 0)

    def popup_box(self, pid: int) -> tuple[int, int, int, int] | None:
        """Screen box of a mapped popup (override-redirect top-level, e.g. a menu) of ``pid``."""
        from Xlib import X, error

        for child in self._xdisplay.screen().root.query_tree().children:
            try:
                attrs = child.get_attributes()
                if attrs.override_redirect and attrs.map_state == X.IsViewable and self._pid_of(child) == pid:
                    box = self._box(child)
                    if box[2] - box[0] > 40 and box[3] - box[1] > 40:
                        return box
            except error.XError:
                continue
        return None

    # -- stop ---------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._xdisplay is not None:
            try:
                self._xdisplay.close()
            except Exception:
                pass
            self._xdisplay = None
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(10)  # Xvfb must be reaped before its display number is reused
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.procs.clear()

    def __enter__(self) -> XSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def icon_box(baseline: Image.Image, current: Image.Image, threshold: int = 40) -> tuple[int, int, int, int] | None:
    """Bounding box of pixels that differ from ``baseline`` (the docked icon), or None."""
    from PIL import ImageChops

    diff = ImageChops.difference(baseline, current).convert("L").point(lambda v: 255 if v > threshold else 0)
    return diff.getbbox()
