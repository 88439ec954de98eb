"""The menu, tooltip and pause arithmetic as pure functions (no display, no pystray loop)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.alerts.store import Alert, AlertCounts
from engine.health import Health, HealthReport
from engine.snapshot import ChannelState, JobInfo, Snapshot
from tray.menu import (
    TOOLTIP_MAX,
    build_menu,
    find_entry,
    fit_utf16,
    keyboard_path,
    menu_text,
    status_message,
    to_pystray,
    tomorrow_at,
    tooltip,
)

UTC = timezone.utc
NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)


class Recorder:
    """MenuCallbacks that record each call as (name, args)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


def job(name: str, kind: str = "check") -> JobInfo:
    return JobInfo(name, kind, "every 1h", None, None, None, None, False)


def alert(alert_id: int, title: str, check: str = "stale_applications", state: str = "open") -> Alert:
    return Alert(alert_id, check, title.lower(), "warning", title, None, state, NOW, NOW, None,
                 NOW + timedelta(hours=1) if state == "snoozed" else None, None, None, None, 0)


def channel(name: str, state: str) -> ChannelState:
    return ChannelState(name, state, pending=0, failed=0)


def snap(state: Health = Health.OK, reasons: list[str] | None = None, alerts: int = 0,
         paused_until: datetime | None = None, api_url: str | None = None,
         channels: list[ChannelState] | None = None, last_check_at: datetime | None = None,
         snoozed: int = 0) -> Snapshot:
    return Snapshot(
        health=HealthReport(state, reasons or []), pid=1, version="0.1.0", started_at=NOW, last_beat=NOW,
        paused_until=paused_until,
        open_alerts=[alert(10 + i, f"Acme Corp #{i}") for i in range(alerts)]
        + [alert(50 + i, f"Snoozed Inc #{i}", state="snoozed") for i in range(snoozed)],
        alerts=AlertCounts(attention=alerts, snoozed=snoozed),
        jobs=[job("heartbeat", "module"), job("stale_applications"), job("goal_staleness"), job("archive", "module")],
        channels=channels or [], checks=["stale_applications", "goal_staleness", "disk_space"],
        last_check_at=last_check_at, api_url=api_url)


def test_menu_text_for_an_attention_snapshot() -> None:
    text = menu_text(build_menu(snap(Health.ATTENTION, ["2 open alert(s)"], alerts=2), False, Recorder(),
                                tz=UTC, now=NOW))
    assert text == """\
* Watchkeeper: ATTENTION - 2 open alerts
----
Open alerts (2) >
    Stale applications: Acme Corp #0 >
        Acknowledge
        Snooze 1 hour
        Snooze 1 day
    Stale applications: Acme Corp #1 >
        Acknowledge
        Snooze 1 hour
        Snooze 1 day
Run check now >
    Stale applications
    Goal staleness
    Disk space (disabled)
    ----
    All checks
Pause alerts >
    1 hour
    4 hours
    Until tomorrow 08:00
    ----
    Resume (disabled)
Archive conversations now
----
Open log file
Open data folder
Edit settings
Reload settings
----
[ ] Start at login
----
Quit"""


def test_menu_varies_with_the_snapshot() -> None:
    quiet = menu_text(build_menu(snap(paused_until=NOW + timedelta(hours=1), api_url="http://127.0.0.1:8765"),
                                 True, Recorder(), tz=UTC, now=NOW))
    assert "Open alerts (0) (disabled)" in quiet
    assert "    Resume\n" in quiet + "\n"
    assert "Open dashboard\nOpen API docs" in quiet
    assert "[x] Start at login" in quiet
    unavailable = menu_text(build_menu(snap(), None, Recorder(), tz=UTC, now=NOW))
    assert "[ ] Start at login (disabled)" in unavailable
    assert "Open API docs" not in unavailable and "Open dashboard" not in unavailable


def test_status_line_and_tooltip_name_the_state() -> None:
    degraded = snap(Health.DEGRADED, ["heartbeat stale", "job x failing"])
    assert build_menu(degraded, None, Recorder(), tz=UTC, now=NOW)[0].text == \
        "Watchkeeper: DEGRADED (heartbeat stale)"
    paused = snap(Health.PAUSED, ["paused"], paused_until=datetime(2026, 3, 10, 15, 30, tzinfo=UTC))
    assert tooltip(paused, ZoneInfo("Europe/Berlin"), NOW).splitlines()[0] == "Watchkeeper: PAUSED until 16:30 CET"
    tip = tooltip(snap(Health.ATTENTION, alerts=3, last_check_at=NOW - timedelta(minutes=5),
                       channels=[channel("toast", "ok"), channel("telegram", "broken")]),
                  UTC, NOW)
    assert tip == "Watchkeeper: ATTENTION\n3 open alerts\nLast check: 14:25 UTC\nChannels: toast ok, telegram broken"


@pytest.mark.parametrize("channels", [
    [channel("telegram-" + "x" * 200, "broken")],
    [channel(f"channel{i}\U0001F600", "ok") for i in range(30)],
])
def test_tooltip_never_exceeds_127_utf16_units(channels: list[ChannelState]) -> None:
    tip = tooltip(snap(Health.DEGRADED, ["database trouble: " + "y" * 300], channels=channels), UTC, NOW)
    assert len(tip.encode("utf-16-le")) // 2 <= TOOLTIP_MAX
    assert tip.endswith("…")
    assert fit_utf16("short") == "short"


def test_tomorrow_at_eight_is_local_and_dst_aware() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 23:30 UTC on 28 March is 00:30 on the 29th in Berlin: "tomorrow" is the 30th, after the DST change.
    until = tomorrow_at(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), berlin)
    assert until == datetime(2026, 3, 30, 8, 0, tzinfo=berlin)
    assert until.astimezone(UTC) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert tomorrow_at(NOW, UTC) == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)


def test_every_item_calls_its_callback() -> None:
    cb = Recorder()
    menu = build_menu(snap(Health.ATTENTION, alerts=1, paused_until=NOW, api_url="http://x"), False, cb,
                      tz=UTC, now=NOW)
    expected = {
        ("Watchkeeper",): ("show_status", ()),
        ("Open alerts", "Stale applications", "Acknowledge"): ("acknowledge", (10,)),
        ("Open alerts", "Stale applications", "Snooze 1 hour"): ("snooze", (10, timedelta(hours=1))),
        ("Open alerts", "Stale applications", "Snooze 1 day"): ("snooze", (10, timedelta(days=1))),
        ("Run check now", "Goal staleness"): ("run_check", ("goal_staleness",)),
        ("Run check now", "All checks"): ("run_all_checks", ()),
        ("Pause alerts", "1 hour"): ("pause_for", (timedelta(hours=1),)),
        ("Pause alerts", "4 hours"): ("pause_for", (timedelta(hours=4),)),
        ("Pause alerts", "Until tomorrow 08:00"): ("pause_until_morning", ()),
        ("Pause alerts", "Resume"): ("resume", ()),
        ("Archive conversations now",): ("archive_now", ()),
        ("Open log file",): ("open_log", ()),
        ("Open data folder",): ("open_data_folder", ()),
        ("Open dashboard",): ("open_dashboard", ()),
        ("Open API docs",): ("open_api_docs", ()),
        ("Edit settings",): ("edit_settings", ()),
        ("Reload settings",): ("reload_settings", ()),
        ("Start at login",): ("toggle_startup", ()),
        ("Quit",): ("quit", ()),
    }
    for path, call in expected.items():
        entry = find_entry(menu, *path)
        assert entry.action is not None, path
        entry.action()
        assert cb.calls[-1] == call, path
    assert len(cb.calls) == len(expected)


def test_keyboard_path_skips_separators_and_disabled_items() -> None:
    menu = build_menu(snap(), None, Recorder(), tz=UTC, now=NOW)  # Open alerts is disabled
    assert keyboard_path(menu, "Run check now", "All checks") == ["Down", "Down", "Right", "Down", "Down", "Return"]
    assert keyboard_path(menu, "Pause alerts", "1 hour") == ["Down", "Down", "Down", "Right", "Return"]
    assert keyboard_path(menu, "Quit")[-2:] == ["Down", "Return"]
    with pytest.raises(KeyError):
        find_entry(menu, "No such item")


def test_to_pystray_converts_and_contains_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    """Converted with the dummy backend: same text; a failing action is logged, not raised."""
    import pystray

    class Exploding(Recorder):
        def quit(self) -> None:
            raise RuntimeError("boom")

    cb = Exploding()
    menu = to_pystray(build_menu(snap(Health.ATTENTION, alerts=1), True, cb, tz=UTC, now=NOW))
    assert isinstance(menu, pystray.Menu)
    items = list(menu.items)
    texts = [item.text for item in items]
    assert texts[0] == "Watchkeeper: ATTENTION - 1 open alert" and texts[-1] == "Quit"
    assert items[0].default
    start = next(item for item in items if item.text == "Start at login")
    assert start.checked is True
    icon = pystray.Icon("test")
    items[-1](icon)  # Quit raises inside: logged
    assert "tray menu action 'Quit' failed" in caplog.text
    run_checks = next(item for item in items if item.text == "Run check now")
    next(i for i in run_checks.submenu.items if i.text == "All checks")(icon)
    assert cb.calls[-1] == ("run_all_checks", ())


def test_no_menu_label_is_an_internal_check_name() -> None:
    text = menu_text(build_menu(snap(Health.ATTENTION, alerts=1), False, Recorder(), tz=UTC, now=NOW))
    assert not any(name in text for name in ("stale_applications", "goal_staleness", "disk_space"))
    assert find_entry(build_menu(snap(), False, Recorder()), "Run check now", "Disk space").enabled is False


def test_tooltip_shows_what_the_last_action_did() -> None:
    tip = tooltip(snap(), UTC, NOW, feedback="Checks run: 3 alerts")
    assert tip.splitlines()[:2] == ["Watchkeeper: OK", "Checks run: 3 alerts"]
def test_snoozed_alerts_do_not_count_as_needing_attention_in_the_status_line_and_tooltip() -> None:
    shown = snap(Health.ATTENTION, ["1 open alert(s)"], alerts=1, snoozed=2)
    assert build_menu(shown, None, Recorder(), tz=UTC, now=NOW)[0].text == "Watchkeeper: ATTENTION - 1 open alert"
    assert "\n1 open alert\n" in tooltip(shown, UTC, NOW)


def test_status_message_says_another_instance_handles_the_telegram_commands_on_a_shared_bot() -> None:
    reason = "Telegram commands are handled by another instance (or program) using this bot"
    standby = ChannelState("telegram", "standby", pending=0, failed=0, reason=reason)
    text = status_message(snap(channels=[channel("toast", "ok"), standby]), UTC, NOW)
    assert "telegram standby" in text and f"{reason}." in text
    assert reason not in status_message(snap(channels=[channel("telegram", "ok")]), UTC, NOW)
