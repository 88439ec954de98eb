"""The X11 presence leaf and the tracker under Xvfb with real input (xdotool) and the real screen
saver (xset). Skipped with the reason when Xvfb or xdotool is missing, unless WATCHKEEPER_REQUIRE_GUI=1."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from engine.platform.presence import read_presence, read_x11
from engine.presence import Presence, PresenceTracker
from tests.helpers import skip_unless_required, wait_until


def _require_xvfb() -> None:
    missing = [tool for tool in ("Xvfb", "xdotool", "xset") if shutil.which(tool) is None]
    if missing:
        reason = "X11 presence tests need: " + ", ".join(missing)
        skip_unless_required(reason)


@pytest.fixture(scope="module")
def xvfb() -> Iterator[dict[str, str]]:
    """A bare Xvfb display (no tray, no D-Bus); the env for tools that use it."""
    _require_xvfb()
    from tests.tray.xsession import XSession

    session = XSession()
    try:
        session._start_xvfb()
        yield session.env
    finally:
        session.close()


def _tool(env: dict[str, str], *argv: str) -> None:
    subprocess.run(list(argv), env=env, check=True, timeout=30, capture_output=True)


def test_idle_grows_and_real_input_resets_it(xvfb: dict[str, str]) -> None:
    display = xvfb["DISPLAY"]
    _tool(xvfb, "xset", "s", "reset")
    assert wait_until(lambda: (read_x11(display).idle_seconds or 0) >= 1.5, timeout=15)
    _tool(xvfb, "xdotool", "mousemove", "10", "20", "mousemove", "30", "40")
    reading = read_x11(display)
    assert reading.source == "x11" and reading.idle_seconds is not None and reading.idle_seconds < 1


def test_screen_saver_on_counts_as_locked_and_reset_unlocks(xvfb: dict[str, str]) -> None:
    display = xvfb["DISPLAY"]
    _tool(xvfb, "xset", "s", "activate")
    assert wait_until(lambda: read_x11(display).locked is True, timeout=10)
    _tool(xvfb, "xset", "s", "reset")
    assert wait_until(lambda: read_x11(display).locked is False, timeout=10)


def test_read_presence_picks_x11_from_display(xvfb: dict[str, str]) -> None:
    assert read_presence({"DISPLAY": xvfb["DISPLAY"]}, "linux").source == "x11"


def test_a_wrong_display_gives_an_error_not_an_exception() -> None:
    reading = read_x11(":4711")
    assert reading.error is not None and reading.error.startswith("cannot open X display :4711")
    assert read_presence({"DISPLAY": ":4711", "XDG_RUNTIME_DIR": "/nonexistent"}, "linux").error.startswith(
        "cannot open X display :4711")


def test_tracker_is_present_after_input_and_away_after_idling_or_with_the_screen_saver(xvfb: dict[str, str]) -> None:
    display = xvfb["DISPLAY"]
    tracker = PresenceTracker(lambda: read_x11(display), away_after=1.0, max_age=0)
    _tool(xvfb, "xset", "s", "reset")
    _tool(xvfb, "xdotool", "mousemove", "50", "60", "mousemove", "70", "80")
    assert tracker.current().presence == Presence.PRESENT
    assert wait_until(lambda: tracker.current().presence == Presence.AWAY, timeout=15)
    assert tracker.changed_at is not None
    _tool(xvfb, "xdotool", "mousemove", "90", "100", "mousemove", "110", "120")
    assert tracker.current().presence == Presence.PRESENT
    _tool(xvfb, "xset", "s", "activate")
    assert wait_until(lambda: tracker.current().reason == "the session is locked", timeout=10)
    _tool(xvfb, "xset", "s", "reset")
