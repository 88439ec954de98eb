"""Presence-aware routing end to end: a real instance under Xvfb (real input through xdotool, the
screen saver through xset), toasts through a real notification daemon on a private D-Bus session
bus, Telegram through the fake Bot API. Observed through the outbox rows and the fake's messages.

Skips with the reason when a tool is missing, unless WATCHKEEPER_REQUIRE_GUI=1, which makes it fail.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest

from engine.process.lifecycle import running_instance
from tests.delivery_helpers import CHAT, TOKEN
from tests.fakes.telegram_api import FakeTelegramServer
from tests.helpers import cli, skip_unless_required, start_instance, wait_until
from tests.tray.xsession import XSession, notification_daemon

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(240)]

TOOLS = ("Xvfb", "xdotool", "xset", "dbus-daemon", "dbus-send")
STALE = "Backend Engineer at Acme Corp"  # the demo's stale application: a warning
GOAL = "Goal 'Run a half marathon'"  # the demo's stale goal: a warning
DISK = "Low disk space"  # disk_space with an impossible threshold: critical


def _require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if notification_daemon() is None:
        missing.append("notification-daemon")
    try:
        import Xlib  # noqa: F401
    except ImportError:
        missing.append("python-xlib")
    if missing:
        reason = "presence routing under Xvfb needs: " + ", ".join(missing)
        skip_unless_required(reason)


def _rows(wk_home, title: str) -> dict[str, tuple[str, str | None]]:
    """channel -> (state, route) of the outbox rows of the newest alert notification titled ``title``."""
    with sqlite3.connect(wk_home.db_file, timeout=10) as conn:
        rows = conn.execute(
            "SELECT o.channel, o.state, o.route FROM outbox o WHERE o.notification_id = (SELECT max(id)"
            " FROM notifications WHERE kind = 'alert' AND title LIKE ?)", (f"%{title}%",)).fetchall()
    return {channel: (state, route) for channel, state, route in rows}


def _telegram_texts(fake: FakeTelegramServer, title: str) -> list[str]:
    return [m.text for m in fake.messages if title in m.text]


def _until(wk_home, title: str, want: dict[str, str], timeout: float = 30) -> dict[str, tuple[str, str | None]]:
    def reached() -> dict[str, tuple[str, str | None]] | None:
        rows = _rows(wk_home, title)
        return rows if {c: rows.get(c, ("", None))[0] for c in want} == want else None

    return wait_until(reached, timeout=timeout, message=f"{title}: {want} (now {_rows(wk_home, title)})")


@pytest.fixture
def xsession(tmp_path):
    _require_tools()
    session = XSession(log_dir=tmp_path).start(tray=False)
    yield session
    session.close()


def test_routes_by_presence_through_real_input_and_the_screen_saver(wk_home, fake, xsession, tmp_path):
    env = {**xsession.env, "WATCHKEEPER_TELEGRAM_TOKEN": TOKEN, "WATCHKEEPER_TELEGRAM_CHAT_ID": str(CHAT),
           "WATCHKEEPER_TELEGRAM_API_URL": fake.base_url}
    with wk_home.config_file.open("a") as config:
        config.write('[delivery]\nrouting = "presence"\naway_after = "1h"\nescalate_after = "1s"\n'
                     "[checks.endpoint]\nenabled = false\n[checks.listening_ports]\nenabled = false\n"
                     '[checks.disk_space]\nschedule = "every 24h"\nmin_free_gb = 1000000\n')

    def x(*argv: str) -> None:
        subprocess.run(argv, env=xsession.env, check=True, timeout=10)

    instance = start_instance(env=env, log=tmp_path / "instance.log")
    try:
        wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=20)
        cli("demo", env=env, check=True)

        # Present (input just now): the toast is shown, Telegram waits for an escalation.
        x("xdotool", "mousemove", "10", "10", "mousemove", "20", "20")
        cli("check", "run", "stale_applications", env=env, check=True)
        rows = _until(wk_home, STALE, {"toast": "sent", "telegram": "held"})
        assert "telegram if not acknowledged after 1 s away" in (rows["telegram"][1] or "")
        assert _telegram_texts(fake, STALE) == []

        # The screen saver goes on: the unacknowledged toast-only alert is escalated to the phone ...
        x("xset", "s", "activate")
        rows = _until(wk_home, STALE, {"telegram": "sent"})
        assert rows["telegram"][1] == "escalated: away and not acknowledged after 1 s"
        wait_until(lambda: _telegram_texts(fake, STALE), timeout=10, message="the escalated alert on the fake")
        # ... and a new alert goes to Telegram at once, its toast held for the return.
        cli("check", "run", "goal_staleness", env=env, check=True)
        rows = _until(wk_home, GOAL, {"telegram": "sent", "toast": "held"})
        assert rows["toast"][1] and rows["toast"][1].endswith("toast on return")

        # Back (screen saver off, real input): the held toast of the still-open alert is shown.
        x("xset", "s", "reset")
        x("xdotool", "mousemove", "30", "30", "mousemove", "40", "40")
        rows = _until(wk_home, GOAL, {"toast": "sent"})
        assert rows["toast"][1] and rows["toast"][1].startswith("back (")

        # Critical: every channel at once, present or not.
        cli("check", "run", "disk_space", env=env, check=True)
        rows = _until(wk_home, DISK, {"toast": "sent", "telegram": "sent"})
        assert rows["telegram"][1] == "critical: every channel"
    finally:
        cli("stop", env=env)
        try:
            instance.wait(20)
        except subprocess.TimeoutExpired:
            instance.kill()
