"""Presence in `watchkeeper status` through real processes: an instance whose DISPLAY is an Xvfb
shows present after real input and away with the screen saver on; without DISPLAY or a session bus
it shows unknown with the reason, and doctor names it when routing = presence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from engine.process.lifecycle import running_instance
from tests.helpers import cli, start_instance, wait_until

HEADLESS = {"DISPLAY": "", "DBUS_SESSION_BUS_ADDRESS": "", "XDG_RUNTIME_DIR": "/nonexistent"}


def _status(env: dict[str, str]) -> dict:
    return json.loads(cli("status", "--json", env=env).stdout)


def test_without_display_status_and_doctor_say_unknown_with_the_reason(wk_home):
    with wk_home.config_file.open("a") as f:
        f.write('[delivery]\nrouting = "presence"\n')
    data = _status(HEADLESS)  # no instance: read once in the CLI process
    assert data["presence"] == "unknown"
    assert data["presence_detail"]["reason"] == "no X display (DISPLAY is not set); no D-Bus session bus"
    assert "Presence: unknown (no X display" in cli("status", env=HEADLESS).stdout
    doctor = cli("doctor", env=HEADLESS).stdout
    assert "presence: unknown: no X display" in doctor and "every alert goes to both channels" in doctor


def test_running_instance_on_xvfb_shows_present_after_input_and_away_with_the_screen_saver(wk_home):
    missing = [t for t in ("Xvfb", "xdotool", "xset") if shutil.which(t) is None]
    if missing:
        if os.environ.get("WATCHKEEPER_REQUIRE_GUI") == "1":
            pytest.fail(f"WATCHKEEPER_REQUIRE_GUI=1 but missing: {', '.join(missing)}")
        pytest.skip("needs " + ", ".join(missing))
    from tests.tray.xsession import XSession

    session = XSession()
    try:
        session._start_xvfb()
        env = {**HEADLESS, "DISPLAY": session.display}
        proc = start_instance(env=env)
        try:
            wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=15)
            cli_env = HEADLESS  # the status comes from the instance's tracker, not this process
            subprocess.run(["xdotool", "mousemove", "5", "5", "mousemove", "15", "25"], env=session.env,
                           check=True, timeout=30)
            data = wait_until(lambda: (d := _status(cli_env)).get("presence") == "present" and d, timeout=15)
            assert data["presence_detail"]["source"] == "x11"
            subprocess.run(["xset", "s", "activate"], env=session.env, check=True, timeout=30)
            data = wait_until(lambda: (d := _status(cli_env)).get("presence") == "away" and d, timeout=15)
            assert data["presence_detail"]["locked"] is True
            assert "Presence: away (the session is locked)" in cli("status", env=cli_env).stdout
        finally:
            cli("stop")
            proc.wait(20)
    finally:
        session.close()
