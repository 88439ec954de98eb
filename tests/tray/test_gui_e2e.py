"""The real tray, end to end: Xvfb, trayer as the tray host, a D-Bus session bus with
notification-daemon, xdotool for the mouse and keyboard, and `watchkeeper` as a real process on a
demo data folder with a real SQLite file.

Icon states are asserted on the pixels of the docked icon (colour and shape), not on internal
state. Screenshots go to build/screenshots/ (docs/screenshots/ keeps the README's copies). Skips with the
reason when a tool is missing, unless WATCHKEEPER_REQUIRE_GUI=1 (CI), which makes it fail.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from engine.alerts.store import Alert
from engine.health import Health, HealthReport
from engine.snapshot import ChannelState, JobInfo, Snapshot
from engine.timeutil import from_db
from tests.helpers import ROOT, skip_unless_required
from tests.tray.xsession import XSession, missing_tools, wait_for
from tray.icons import COLOURS
from tray.menu import build_menu, keyboard_path

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(240)]

# Each run writes its screenshots here (untracked); docs/screenshots/ holds the committed copies the
# README shows. Refresh those with: WATCHKEEPER_SCREENSHOTS=docs/screenshots python3 dev.py test tests/tray
SCREENSHOTS = ROOT / os.environ.get("WATCHKEEPER_SCREENSHOTS", "build/screenshots")
CONFIG = """\
[api]
enabled = false
[checks.disk_space]
enabled = false
[checks.listening_ports]
enabled = false
[checks.endpoint]
enabled = false
"""


def _require_gui() -> None:
    problems = [f"{tool} not installed" for tool in missing_tools()]
    if importlib.util.find_spec("gi") is None:
        problems.append("PyGObject (the gtk extra) not importable: the xorg backend has no menu")
    if problems:
        reason = "GUI end-to-end test needs: " + "; ".join(problems)
        skip_unless_required(reason)


# -- pixels -----------------------------------------------------------------------------------------


def classify(img: Image.Image) -> tuple[str | None, str | None]:
    """(state, shape) of a docked icon from its pixels.

    state: the Health whose palette colour covers most of the icon (None if none covers 15 %);
    shape: from how much of the icon's own bounding box is covered: triangle < 0.62 <= circle
    < 0.86 <= square.
    """
    rgb = img.convert("RGB")
    width, height = rgb.size
    corners = [rgb.getpixel(p) for p in ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1))]
    background = Counter(corners).most_common(1)[0][0]
    assert isinstance(background, tuple)
    counts: Counter[Health] = Counter()
    covered = []
    for y in range(height):
        for x in range(width):
            pixel = rgb.getpixel((x, y))
            assert isinstance(pixel, tuple)
            if sum(abs(a - b) for a, b in zip(pixel, background, strict=True)) > 60:
                covered.append((x, y))
            for candidate, colour in COLOURS.items():
                if sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < 70:
                    counts[candidate] += 1
    if not covered:
        return None, None
    state: Health | None = None
    hits = 0
    if counts:
        state, hits = counts.most_common(1)[0]
    xs, ys = [p[0] for p in covered], [p[1] for p in covered]
    box_area = (max(xs) - min(xs) + 1) * (max(ys) - min(ys) + 1)
    fill = len(covered) / box_area
    shape = "triangle" if fill < 0.62 else "circle" if fill < 0.86 else "square"
    return (state.value if state is not None and hits >= 0.15 * box_area else None), shape


# -- the app under test -------------------------------------------------------------------------------


class App:
    """`watchkeeper` in a scratch home, driven through the X session."""

    def __init__(self, x: XSession, tmp: Path):
        self.x = x
        self.home = tmp / "wk"
        (self.home / "config").mkdir(parents=True)
        (self.home / "config" / "config.toml").write_text(CONFIG)
        (tmp / "user").mkdir()
        user = tmp / "user"  # start at login writes below HOME / XDG_CONFIG_HOME: keep it in tmp
        self.env = {**x.env, "WATCHKEEPER_HOME": str(self.home), "HOME": str(user),
                    "XDG_CONFIG_HOME": str(user / ".config"), "XDG_DATA_HOME": str(user / ".local" / "share")}
        for var in ("PYSTRAY_BACKEND", "WATCHKEEPER_TELEGRAM_TOKEN", "WATCHKEEPER_TELEGRAM_CHAT_ID"):
            self.env.pop(var, None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.out = tmp / "watchkeeper.out"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "engine", *args], env=self.env, capture_output=True,
                                text=True, timeout=60, cwd=ROOT)
        assert result.returncode == 0, f"watchkeeper {' '.join(args)}: {result.stderr}"
        return result

    def launch(self) -> None:
        script = Path(sys.executable).with_name("watchkeeper")
        argv = [str(script)] if script.exists() else [sys.executable, "-m", "engine"]
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, f"watchkeeper exited:\n{self.out.read_text()}"

    def icon_box(self) -> tuple[int, int, int, int]:
        def found() -> tuple[int, int, int, int] | None:
            self.alive()
            return self.x.tray_icon_box(self.pid)

        return wait_for(found, 30, "the Watchkeeper icon docked in trayer")

    def icon_state(self) -> tuple[str | None, str | None]:
        return classify(self.x.grab(self.icon_box()))

    def wait_icon(self, state: str, shape: str) -> None:
        last: list[tuple[str | None, str | None]] = []

        def matches() -> bool:
            last[:] = [self.icon_state()]
            return last[0] == (state, shape)

        try:
            wait_for(matches, 30, f"the icon to show {state} ({shape})", interval=0.1)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; last seen {last}") from None

    def open_menu(self) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.icon_box()
        self.x.click((left + right) // 2, (top + bottom) // 2, 3)
        return wait_for(lambda: self.x.popup_box(self.pid), 15, "the tray menu to open")

    def choose(self, *path: str) -> None:
        """Open the menu and pick ``path`` with the keyboard (as GTK navigates it)."""
        keys = keyboard_path(build_menu(self.snapshot(), self.startup_registered(), _NoCallbacks()), *path)
        self.open_menu()
        self.x.key(*keys)

    def snapshot(self) -> Snapshot:
        """The running instance's snapshot (via `watchkeeper status --json`), enough for the menu."""
        data = json.loads(self.cli("status", "--json").stdout)
        jobs = [JobInfo(j["name"], j["kind"], j["schedule"], None, j["last_outcome"], None, None, j["running"])
                for j in data["jobs"]]
        return Snapshot(health=HealthReport(Health(data["state"]), data.get("reasons") or []), pid=data["pid"],
                        version=data["version"], started_at=None, last_beat=None, paused_until=None,
                        open_alerts=[_alert(a) for a in data["open_alerts"]], jobs=jobs,
                        channels=[ChannelState.from_dict(c) for c in data.get("channels") or []],
                        checks=[j.name for j in jobs if j.kind == "check"], api_url=data.get("api_url"))

    def startup_registered(self) -> bool | None:
        """What the app's "Start at login" checkbox shows (None: unavailable, item disabled)."""
        code = ("from tray.app import load_startup_module as f; m = f(); "
                "print(None if m is None else m.status().registered)")
        out = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                             timeout=60, cwd=ROOT, check=True).stdout.strip()
        return None if out == "None" else out == "True"

    def check_runs(self) -> Counter[str]:
        with sqlite3.connect(self.home / "data" / "watchkeeper.db", timeout=10) as conn:
            rows = conn.execute("SELECT check_name FROM check_runs").fetchall()
        return Counter(name for (name,) in rows)

    def screenshot(self, name: str, box: tuple[int, int, int, int]) -> Path:
        path = self.x.screenshot(SCREENSHOTS / name)
        with Image.open(path) as full:
            full.crop(box).save(path, optimize=True)
        return path


class _NoCallbacks:
    """Menu callbacks that do nothing: the test only needs the menu's shape for key presses."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return lambda *args: None


def _lock_is_free(lock_file: Path) -> bool:
    with open(lock_file, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


def test_tray_end_to_end(tmp_path: Path) -> None:
    _require_gui()
    x = XSession(width=1280, height=720, log_dir=tmp_path).start()  # toasts sit top-right, away from the menu
    app = App(x, tmp_path)
    try:
        app.cli("demo")
        app.launch()

        # The icon docks and shows OK (no check has run yet).
        app.wait_icon("ok", "circle")
        app.screenshot("tray-ok.png", (0, 0, 200, 48))

        # A demo alert: one check run through the running instance -> ATTENTION on the icon.
        app.cli("check", "run", "stale_applications")
        app.wait_icon("attention", "triangle")
        app.screenshot("tray-attention.png", (0, 0, 200, 48))

        # Right-click opens the menu (kept for the README), Escape closes it.
        menu = app.open_menu()
        app.screenshot("tray-menu.png", (0, 0, max(menu[2], 200) + 4, menu[3] + 4))
        x.key("Escape")
        wait_for(lambda: app.x.popup_box(app.pid) is None, 15, "the menu to close")

        # Run check now > All checks: each enabled check records a scheduled run in the database.
        enabled = {j.name for j in app.snapshot().jobs if j.kind == "check"}
        assert enabled, "the demo config enables some checks"
        before = app.check_runs()
        app.choose("Run check now", "All checks")
        wait_for(lambda: all(app.check_runs()[n] > before[n] for n in enabled), 60,
                 f"check_runs rows for {sorted(enabled)}", interval=0.1)

        # Pause alerts > 1 hour: the icon turns PAUSED.
        app.choose("Pause alerts", "1 hour")
        app.wait_icon("paused", "circle")
        app.screenshot("tray-paused.png", (0, 0, 200, 48))

        # Quit: exit code 0 and the single-instance lock released.
        app.choose("Quit")
        assert app.proc is not None
        assert app.proc.wait(60) == 0, app.out.read_text()
        assert _lock_is_free(app.home / "data" / "watchkeeper.lock")
        log = (app.home / "logs" / "watchkeeper.log").read_text()
        assert "tray icon shown (pystray backend gtk)" in log
        assert "stopping (tray quit)" in log
    finally:
        if app.proc is not None and app.proc.poll() is None:
            app.proc.terminate()
            try:
                app.proc.wait(20)
            except subprocess.TimeoutExpired:
                app.proc.kill()
                app.proc.wait(10)
        x.close()


def test_icon_appears_when_the_tray_host_starts_after_watchkeeper(tmp_path: Path) -> None:
    """A panel that comes up after login: Watchkeeper starts headless, asks the display again and
    docks its icon once trayer owns the tray selection."""
    _require_gui()
    x = XSession(log_dir=tmp_path).start(tray=False)
    app = App(x, tmp_path)
    log_file = app.home / "logs" / "watchkeeper.log"
    try:
        app.launch()
        wait_for(lambda: log_file.exists() and "no system tray host on display" in log_file.read_text(), 60,
                 "the log line saying Watchkeeper waits for a tray host", interval=0.1)
        app.alive()
        x.start_trayer()
        box = wait_for(lambda: app.alive() or x.tray_icon_box(app.pid), 90, "the icon docked in the late trayer",
                       interval=0.2)
        assert box[2] - box[0] >= 8
        assert "a system tray host appeared on display" in log_file.read_text()
        app.cli("stop")
        assert app.proc is not None and app.proc.wait(60) == 0, app.out.read_text()
    finally:
        if app.proc is not None and app.proc.poll() is None:
            app.proc.terminate()
            try:
                app.proc.wait(20)
            except subprocess.TimeoutExpired:
                app.proc.kill()
                app.proc.wait(10)
        x.close()


def test_classify_recognises_the_drawn_states() -> None:
    """The pixel classifier itself, on icons drawn over a grey tray background (no display)."""
    from tray.icons import draw_icon

    expected = {Health.OK: "circle", Health.ATTENTION: "triangle", Health.DEGRADED: "square",
                Health.PAUSED: "circle"}
    for state, shape in expected.items():
        canvas = Image.new("RGBA", (32, 30), (237, 235, 233, 255))
        canvas.alpha_composite(draw_icon(state, 3, 28), (2, 1))
        assert classify(canvas) == (state.value, shape), state


def _alert(data: dict) -> Alert:
    """An open alert of `status --json` (its Alert.to_dict form) as the snapshot holds it."""
    fields = {k: v for k, v in data.items() if k != "check"}
    for key, value in fields.items():
        if key.endswith(("_at", "_until")) and isinstance(value, str):
            fields[key] = from_db(value)
    return Alert(**fields)


def test_the_docking_retry_embeds_a_window_whose_first_request_was_lost(tmp_path: Path, monkeypatch) -> None:
    """What the xorg backend's retry does when pystray's first dock request was lost: a window that asked
    nobody is embedded by trayer through ensure_xorg_docked's own dock requests (real Xvfb, real trayer)."""
    _require_gui()
    import threading
    from types import SimpleNamespace

    from Xlib import X, display

    from tray.app import ensure_xorg_docked, xorg_docked

    x = XSession(log_dir=tmp_path).start(notifications=False)
    monkeypatch.setenv("DISPLAY", x.display)  # the tray's own connections open $DISPLAY
    conn = display.Display(x.display)
    try:
        screen = conn.screen()
        window = screen.root.create_window(0, 0, 16, 16, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
                                           background_pixel=screen.white_pixel)
        xembed = conn.intern_atom("_XEMBED_INFO")
        window.change_property(xembed, xembed, 32, [0, 1])  # XEMBED version 0, mapped
        conn.flush()
        assert not xorg_docked(window.id)
        icon = SimpleNamespace(_window=SimpleNamespace(id=window.id))  # what ensure_xorg_docked reads of pystray's
        assert ensure_xorg_docked(icon, threading.Event(), attempts=20, wait=1.0)
        assert xorg_docked(window.id)
    finally:
        conn.close()
        x.close()
