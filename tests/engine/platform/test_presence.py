"""Presence leaves: the Windows decision logic through injected DLLs, macOS ioreg text, the Linux
order X11 -> Mutter -> freedesktop ScreenSaver, and the D-Bus leaves against a real session bus."""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engine.platform import windows
from engine.platform.presence import (
    MAX_OUTPUT,
    PresenceReading,
    parse_dbus_bool,
    parse_dbus_uint,
    parse_hid_idle,
    read_macos,
    read_mutter,
    read_presence,
    read_screensaver,
    run_bounded,
)
from tests.helpers import skip_unless_required


def _windows(**dlls: Any) -> PresenceReading:
    return PresenceReading(**windows.read_presence(**dlls))


# -- Windows ----------------------------------------------------------------------------------------


def _dlls(tick: int, last_input: int, state: int = windows.QUNS_ACCEPTS_NOTIFICATIONS, *,
          input_ok: bool = True, state_hresult: int = 0) -> dict[str, Any]:
    def get_last_input_info(ref: Any) -> int:
        ref._obj.dwTime = last_input
        return 1 if input_ok else 0

    def query_state(ref: Any) -> int:
        ref._obj.value = state
        return state_hresult

    return {"user32": SimpleNamespace(GetLastInputInfo=get_last_input_info),
            "kernel32": SimpleNamespace(GetTickCount=lambda: tick),
            "shell32": SimpleNamespace(SHQueryUserNotificationState=query_state)}


def test_windows_idle_time_survives_the_tick_counter_wrapping_after_49_days() -> None:
    # the last input just before the 32-bit wrap, the tick count just after it: 3 s, not 49.7 days
    reading = _windows(**_dlls(tick=1000, last_input=0xFFFFFFFF - 1999))
    assert reading.idle_seconds == pytest.approx(3.0)
    assert reading.source == "windows" and reading.locked is False and reading.error is None


def test_windows_not_present_state_counts_as_locked() -> None:
    reading = _windows(**_dlls(5000, 4000, windows.QUNS_NOT_PRESENT))
    assert reading.locked is True and reading.idle_seconds == pytest.approx(1.0)


@pytest.mark.parametrize(("state", "reason"), [
    (windows.QUNS_BUSY, "a full-screen application or presentation settings"),
    (windows.QUNS_RUNNING_D3D_FULL_SCREEN, "a full-screen game"),
    (windows.QUNS_PRESENTATION_MODE, "presentation mode"),
    (windows.QUNS_QUIET_TIME, "Focus assist / quiet time"),
])
def test_windows_busy_states_are_quiet_with_a_readable_reason(state: int, reason: str) -> None:
    reading = _windows(**_dlls(5000, 4000, state))
    assert reading.quiet == reason and reading.locked is False


def test_windows_app_and_accepting_states_are_not_locked_nor_quiet() -> None:
    for state in (windows.QUNS_ACCEPTS_NOTIFICATIONS, windows.QUNS_APP):
        reading = _windows(**_dlls(5000, 4000, state))
        assert reading.locked is False and reading.quiet is None


def test_windows_failing_calls_give_an_error_not_an_exception() -> None:
    assert _windows(**_dlls(5000, 4000, input_ok=False)).error == "GetLastInputInfo failed"
    partial = _windows(**_dlls(5000, 4000, state_hresult=-2147467259))
    assert partial.idle_seconds == pytest.approx(1.0) and partial.error == "SHQueryUserNotificationState failed"

    def boom(_ref: Any) -> int:
        raise OSError("no such export")

    dlls = _dlls(5000, 4000)
    dlls["user32"] = SimpleNamespace(GetLastInputInfo=boom)
    assert _windows(**dlls).error == "Windows presence calls failed: OSError"


def test_windows_dispatch_uses_the_windows_leaf() -> None:
    reading = read_presence(env={}, platform="win32",
                            readers={"windows": lambda: PresenceReading(idle_seconds=2, source="windows")})
    assert reading.source == "windows"


def test_ctypes_structures_are_what_the_fake_dlls_write_into() -> None:
    # the fakes above write through byref(...)._obj: make sure that is the real ctypes behaviour here
    value = ctypes.c_int(0)
    ctypes.byref(value)._obj.value = 7  # type: ignore[attr-defined]
    assert value.value == 7


# -- macOS ------------------------------------------------------------------------------------------

IOREG = """+-o Root  <class IORegistryEntry, id 0x100000100, retain 28>
  +-o IOResources  <class IOResources, id 0x100000117, registered, matched, active, busy 0 (0 ms), retain 38>
    +-o IOHIDSystem  <class IOHIDSystem, id 0x1000002a3, registered, matched, active, busy 0 (0 ms), retain 20>
      | {
      |   "IOClass" = "IOHIDSystem"
      |   "HIDIdleTime" = 842617000000
      |   "HIDParameters" = {"HIDClickTime"=500000000}
      | }
"""


def test_macos_hid_idle_time_is_read_from_ioreg_in_nanoseconds() -> None:
    calls: list[tuple[list[str], float]] = []

    def run(argv: Any, timeout: float, env: Any) -> tuple[int, str]:
        calls.append((list(argv), timeout))
        return 0, IOREG

    reading = read_macos(run)
    assert reading.idle_seconds == pytest.approx(842.617) and reading.source == "macos"
    assert calls == [(["ioreg", "-c", "IOHIDSystem", "-d", "4"], 2.0)]
    assert read_presence(env={}, platform="darwin", readers={"macos": lambda: reading}) is reading


def test_macos_without_hid_idle_time_names_why() -> None:
    assert parse_hid_idle("+-o Root\n") is None
    assert read_macos(lambda argv, t, env: (0, "+-o Root\n")).error == "ioreg: no HIDIdleTime in its output"
    assert read_macos(lambda argv, t, env: (127, "ioreg: not installed")).error == "ioreg: ioreg: not installed"


# -- the bounded runner -------------------------------------------------------------------------------


def test_runner_kills_a_tool_that_does_not_answer_in_time() -> None:
    code, out = run_bounded([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert code == -9 and "no answer within 0.5 s" in out


def test_runner_stops_reading_a_tool_that_prints_too_much() -> None:
    code, out = run_bounded([sys.executable, "-c", f"print('x' * {MAX_OUTPUT * 4})"], timeout=10)
    assert code == 1 and "more than" in out


def test_runner_reports_a_missing_tool_as_127() -> None:
    assert run_bounded(["watchkeeper-no-such-tool"])[0] == 127


# -- Linux order --------------------------------------------------------------------------------------


def _leaf(name: str, ok: bool) -> Any:
    def read(*_args: Any) -> PresenceReading:
        return PresenceReading(idle_seconds=1, source=name) if ok else PresenceReading(error=f"{name} failed")
    return read


def test_linux_prefers_x11_then_mutter_then_screensaver() -> None:
    env = {"DISPLAY": ":9", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}
    assert read_presence(env, "linux", {"x11": _leaf("x11", True)}).source == "x11"
    leaves = {"x11": _leaf("x11", False), "dbus-mutter": _leaf("dbus-mutter", True),
              "dbus-screensaver": _leaf("dbus-screensaver", True)}
    assert read_presence(env, "linux", leaves).source == "dbus-mutter"
    leaves["dbus-mutter"] = _leaf("dbus-mutter", False)
    assert read_presence(env, "linux", leaves).source == "dbus-screensaver"
    leaves["dbus-screensaver"] = _leaf("dbus-screensaver", False)
    assert read_presence(env, "linux", leaves).error == "x11 failed; dbus-mutter failed; dbus-screensaver failed"


def test_linux_without_display_or_session_bus_says_both() -> None:
    reading = read_presence({"XDG_RUNTIME_DIR": "/nonexistent"}, "linux")
    assert reading.error == "no X display (DISPLAY is not set); no D-Bus session bus"


def test_a_leaf_that_raises_becomes_an_error() -> None:
    def broken(_display: str) -> PresenceReading:
        raise RuntimeError("bug")
    assert read_presence({"DISPLAY": ":1"}, "linux", {"x11": broken}).error == "presence leaf failed: RuntimeError"


def test_dbus_replies_of_gdbus_and_dbus_send_parse_alike() -> None:
    assert parse_dbus_uint("(uint64 1234,)\n") == 1234
    assert parse_dbus_uint("method return time=1.2 sender=:1.3 -> destination=:1.4 serial=5 reply_serial=2\n"
                           "   uint32 77\n") == 77
    assert parse_dbus_bool("(true,)\n") is True and parse_dbus_bool("   boolean false\n") is False


def test_dbus_send_is_used_when_gdbus_is_missing() -> None:
    seen: list[str] = []

    def run(argv: Any, timeout: float, env: Any) -> tuple[int, str]:
        seen.append(argv[0])
        return (127, "gdbus: not installed") if argv[0] == "gdbus" else (0, "   uint64 3000\n")

    assert read_mutter({}, run).idle_seconds == pytest.approx(3.0)
    assert seen == ["gdbus", "dbus-send"]


# -- D-Bus leaves on a real session bus -----------------------------------------------------------------

FAKE_SERVICE = Path(__file__).with_name("fake_idle_service.py")


@pytest.fixture
def session_bus(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private dbus-daemon session bus; the env to reach it."""
    if shutil.which("dbus-daemon") is None or shutil.which("gdbus") is None:
        skip_unless_required("dbus-daemon and gdbus are needed for a real session bus")
    try:
        import gi  # noqa: F401 - PyGObject serves the fake idle services
    except ImportError:
        skip_unless_required("PyGObject (the gtk extra) serves the fake idle services")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    assert ready, "dbus-daemon did not print its address within 10 s"
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": proc.stdout.readline().decode().strip()}
    env.pop("DISPLAY", None)
    try:
        yield env
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def serve(session_bus: dict[str, str]) -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> None:
        proc = subprocess.Popen([sys.executable, str(FAKE_SERVICE), *args], env=session_bus,
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready and proc.stdout.readline().strip() == "ready", "the fake idle service did not start"

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_mutter_idle_time_is_read_from_a_real_bus(session_bus: dict[str, str], serve: Any) -> None:
    serve("mutter", "754000")
    reading = read_presence(session_bus, "linux")
    assert reading.source == "dbus-mutter" and reading.idle_seconds == pytest.approx(754.0)


def test_screensaver_answers_when_mutter_is_not_on_the_bus(session_bus: dict[str, str], serve: Any) -> None:
    serve("screensaver", "false", "65000")
    reading = read_presence(session_bus, "linux")
    assert reading.source == "dbus-screensaver" and reading.locked is False
    assert reading.idle_seconds == pytest.approx(65.0)


def test_an_active_screensaver_counts_as_locked(session_bus: dict[str, str], serve: Any) -> None:
    serve("screensaver", "true", "0")
    assert read_screensaver(session_bus).locked is True


def test_an_empty_bus_gives_an_error_naming_each_leaf(session_bus: dict[str, str]) -> None:
    reading = read_presence(session_bus, "linux")
    assert reading.error == ("no X display (DISPLAY is not set); Mutter IdleMonitor: not on the session bus; "
                             "freedesktop ScreenSaver: not on the session bus")
