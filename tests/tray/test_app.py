"""Tray composition without a display: runner selection, snapshot application, callbacks reaching
the engine (fakes and a real Engine), stop paths, the pystray wrapper and Windows session messages."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from engine.config import Config
from engine.engine import Engine
from engine.health import Health, HealthReport
from engine.timeutil import to_db
from engine.units import UNITS
from tests.delivery_helpers import units_with_toast_service
from tests.helpers import ROOT, wait_until
from tests.tray.test_menu import NOW, snap
from tray import app as tray_app
from tray import main as tray_main
from tray.app import (
    WM_ENDSESSION,
    WM_QUERYENDSESSION,
    PystrayAdapter,
    TrayApp,
    Worker,
    choose_linux_backend,
    install_session_handlers,
    run_inline,
    session_handlers,
    tray_runner_if_available,
)
from tray.menu import find_entry, menu_text

UTC = timezone.utc


class FakeAdapter:
    """Records what the app does to the icon; run() blocks until stop()."""

    backend = "fake"

    def __init__(self, has_menu: bool = True, has_notification: bool = True) -> None:
        self.has_menu, self.has_notification = has_menu, has_notification
        self.images: list[Any] = []
        self.titles: list[str] = []
        self.menus: list[Any] = []
        self.notes: list[tuple[str, str]] = []
        self.stopped = threading.Event()
        self.running = threading.Event()

    def create(self, image: Any, title: str) -> None:
        self.images.append(image)
        self.titles.append(title)

    def set_image(self, image: Any) -> None:
        self.images.append(image)

    def set_title(self, title: str) -> None:
        self.titles.append(title)

    def set_menu(self, entries: Any) -> None:
        self.menus.append(entries)

    def notify(self, message: str, title: str) -> None:
        self.notes.append((title, message))

    def run(self, on_ready: Any) -> None:
        self.running.set()
        on_ready()
        self.stopped.wait(30)

    def stop(self) -> None:
        self.stopped.set()


class FakePaths:
    log_file = "/logs/watchkeeper.log"
    data_dir = "/data"
    config_file = "/config/config.toml"


class FakeEngine:
    """The Engine surface the tray uses; records actions."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.stop_requested = threading.Event()
        self.stop_reason = "exit"
        self.paths = FakePaths()
        self.config = Config()
        self._stop_callbacks: list[Any] = []
        self.subscriber: Any = None
        self.current = snap(Health.ATTENTION, alerts=1)

    def __getattr__(self, name: str) -> Any:
        if name == "stop":
            return lambda *args: self.calls.append((name, args)) or True
        raise AttributeError(name)

    def request_stop(self, reason: str) -> None:
        self.calls.append(("request_stop", (reason,)))
        self.stop_reason = reason
        self.stop_requested.set()
        for cb in self._stop_callbacks:
            cb()

    def on_stop_request(self, cb: Any) -> None:
        self._stop_callbacks.append(cb)

    def subscribe(self, cb: Any) -> None:
        self.subscriber = cb
        cb(self.current)

    def snapshot(self) -> Any:
        return self.current


class FakeStartup:
    def __init__(self, registered: bool) -> None:
        self.registered = registered
        self.actions: list[str] = []

    def status(self) -> Any:
        return type("Status", (), {"registered": self.registered, "method": "xdg-autostart"})()

    def install(self) -> None:
        self.actions.append("install")
        self.registered = True

    def uninstall(self) -> None:
        self.actions.append("uninstall")
        self.registered = False


def make_app(engine: Any = None, adapter: Any = None, startup: Any = None, **kwargs: Any) -> TrayApp:
    opened: list[str] = kwargs.pop("opened", [])
    return TrayApp(engine or FakeEngine(), adapter or FakeAdapter(), submit=run_inline, now=lambda: NOW, tz=UTC,
                   startup_module=lambda: startup, opener=opened.append, browser=opened.append,
                   icon_loader=lambda state, count: (state, count), **kwargs)


# -- runner selection -------------------------------------------------------------------------------


def test_runner_is_offered_only_where_a_tray_can_show() -> None:
    has_host = {":1": True, ":2": False}.__getitem__
    assert tray_runner_if_available({"PYSTRAY_BACKEND": "dummy", "DISPLAY": ":1"}, "linux", has_host) is None
    assert tray_runner_if_available({}, "linux", has_host) is None
    assert tray_runner_if_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux", has_host) is None
    waiting = tray_runner_if_available({"DISPLAY": ":2"}, "linux", has_host)  # no host yet: ask again later
    assert waiting is not None and waiting is not tray_app.run_tray
    assert tray_runner_if_available({"DISPLAY": ":1"}, "linux", has_host) is tray_app.run_tray
    assert tray_runner_if_available({}, "win32", has_host) is tray_app.run_tray


def test_without_a_tray_host_the_runner_waits_and_shows_the_tray_once_one_appears(
        caplog: pytest.LogCaptureFixture) -> None:
    engine, probes, shown = FakeEngine(), [], []
    answers = iter([False, False, True])

    def probe(display: str) -> bool:
        probes.append(display)
        return next(answers)

    runner = tray_app.run_tray_when_host_appears(":7", probe, interval=0.01, run=shown.append)
    with caplog.at_level(logging.INFO):
        runner(engine)
    assert probes == [":7", ":7", ":7"] and shown == [engine]
    assert "no system tray host on display :7 yet; checking again every" in caplog.text
    assert "a system tray host appeared on display :7" in caplog.text


def test_waiting_for_a_tray_host_ends_at_a_stop_request() -> None:
    engine, shown = FakeEngine(), []
    runner = tray_app.run_tray_when_host_appears(":7", lambda d: False, interval=0.01, run=shown.append)
    thread = threading.Thread(target=runner, args=(engine,))
    thread.start()
    engine.request_stop("test")
    thread.join(30)
    assert not thread.is_alive() and shown == []


def test_linux_backend_is_gtk_when_pygobject_works_else_xorg() -> None:
    assert choose_linux_backend({}, lambda: True) == "gtk"
    assert choose_linux_backend({}, lambda: False) == "xorg"
    assert choose_linux_backend({"PYSTRAY_BACKEND": "appindicator"}, lambda: True) == "appindicator"


def test_x11_probe_without_a_server_says_no() -> None:
    assert tray_app.x11_tray_host(":4242") is False


def test_importing_the_app_does_not_import_pystray_without_a_display() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "PYSTRAY_BACKEND", "WAYLAND_DISPLAY")}
    code = ("import sys, tray.app, tray.menu, tray.icons; assert 'pystray' not in sys.modules; "
            "print(tray.app.tray_runner_if_available())")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


# -- snapshots to icon ------------------------------------------------------------------------------


def test_the_icon_counts_only_alerts_needing_attention_not_snoozed_ones() -> None:
    engine, adapter = FakeEngine(), FakeAdapter()
    app = make_app(engine, adapter)
    app.apply(snap(Health.ATTENTION, alerts=1, snoozed=3))
    assert adapter.images[-1] == (Health.ATTENTION, 1)


def test_snapshots_update_image_tooltip_and_menu_only_when_they_change() -> None:
    engine, adapter = FakeEngine(), FakeAdapter()
    app = make_app(engine, adapter)
    app.apply(snap(Health.ATTENTION, alerts=2))
    assert adapter.images[-1] == (Health.ATTENTION, 2)
    assert adapter.titles[-1].startswith("Watchkeeper: ATTENTION\n2 open alerts")
    assert len(adapter.menus) == 1
    app.apply(snap(Health.ATTENTION, alerts=2))  # same picture: nothing re-sent
    assert (len(adapter.images), len(adapter.titles), len(adapter.menus)) == (1, 1, 1)
    app.apply(snap(Health.PAUSED, paused_until=NOW + timedelta(hours=1)))
    assert adapter.images[-1] == (Health.PAUSED, 0)
    assert "Resume\n" in menu_text(adapter.menus[-1]) + "\n"
    app.apply(snap(Health.DEGRADED, ["heartbeat stale"]))
    assert adapter.images[-1] == (Health.DEGRADED, 0)
    assert adapter.titles[-1].startswith("Watchkeeper: DEGRADED (heartbeat stale)")


def test_a_backend_without_menu_gets_no_menu_and_logs_status(caplog: pytest.LogCaptureFixture) -> None:
    adapter = FakeAdapter(has_menu=False, has_notification=False)
    app = make_app(adapter=adapter)
    app.apply(snap())
    assert adapter.menus == []
    with caplog.at_level(logging.INFO):
        app.callbacks.show_status()
    assert "status: OK" in caplog.text


def _quiet_engine(wk_home: Any) -> Engine:
    """A started Engine with nothing machine-dependent and no API port to contend for."""
    from tests.helpers import parse_config

    quiet = {"enabled": False}
    config = parse_config({"api": quiet, "archive": quiet, "checks": {"disk_space": quiet, "listening_ports": quiet,
                                                                      "endpoint": quiet}}, {}, source=None)
    engine = Engine(wk_home, config, UNITS)
    engine.start()
    return engine


def test_each_callback_acts_on_a_real_engine(wk_home: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Every engine action of the menu reaches a started Engine through the action layer."""
    from engine import runtime_state
    from engine.store.db import connection

    engine = _quiet_engine(wk_home)
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)  # the app's clock: pauses lie ahead
    try:
        db = engine.db
        assert db is not None
        with connection(db):
            db.execute_sql("INSERT INTO alerts (id, check_name, subject, severity, title, state, opened_at,"
                           " last_seen_at) VALUES (10, 'stale_applications', 's', 'warning', 't', 'open', ?, ?)",
                           (to_db(later), to_db(later)))

        def alert_state() -> str:
            with connection(db):
                return str(db.execute_sql("SELECT state FROM alerts WHERE id = 10").fetchone()[0])

        def paused() -> datetime | None:
            with connection(db):
                return runtime_state.paused_until(db, later)

        def runs(name: str) -> int:
            with connection(db):
                return int(db.execute_sql("SELECT count(*) FROM check_runs WHERE check_name = ?",
                                          (name,)).fetchone()[0])

        adapter = FakeAdapter()
        app = TrayApp(engine, adapter, submit=run_inline, now=lambda: later, tz=UTC,
                      startup_module=lambda: None, opener=lambda p: None, browser=lambda u: None,
                      icon_loader=lambda s, c: (s, c))
        app.apply(snap(Health.ATTENTION, alerts=1))

        def press(*path: str) -> None:
            action = find_entry(app.menu, *path).action
            assert action is not None
            action()

        def told() -> str:
            return adapter.notes[-1][1] if adapter.notes else ""

        press("Open alerts", "Stale", "Snooze 1 day")
        assert alert_state() == "snoozed" and told() == "Alert snoozed for 1 day"
        press("Open alerts", "Stale", "Acknowledge")
        assert alert_state() == "acknowledged" and told() == "Alert acknowledged"
        press("Run check now", "Goal staleness")
        assert runs("goal_staleness") == 1 and told() == "Goal staleness: nothing found"
        press("Run check now", "All checks")
        assert runs("stale_applications") == 1 and runs("goal_staleness") == 2
        assert told() == "Checks run: nothing found"
        assert adapter.titles[-1].splitlines()[1] == "Checks run: nothing found"  # the tooltip says it too
        press("Pause alerts", "4 hours")
        assert paused() == later + timedelta(hours=4)
        assert told() == f"Paused until {(later + timedelta(hours=4)):%H:%M} UTC"  # today: the time and zone
        press("Pause alerts", "Until tomorrow")
        assert paused() == datetime.combine(later.date() + timedelta(days=1), datetime.min.time(), UTC).replace(hour=8)
        assert told() == f"Paused until {(later + timedelta(days=1)):%Y-%m-%d} 08:00 UTC"
        press("Pause alerts", "Resume")
        assert paused() is None and told() == "Alerts resumed"
        with caplog.at_level(logging.WARNING):
            press("Archive conversations now")  # the archive is off in this config
        assert "tray: no scheduled job 'archive' to run" in caplog.text
        assert told() == "The archive is off ([archive] enabled = false)"
    finally:
        engine.stop("test")


def test_open_entries_and_the_status_item() -> None:
    engine, adapter, opened = FakeEngine(), FakeAdapter(), []
    app = make_app(engine, adapter, opened=opened)
    app.apply(snap(Health.ATTENTION, alerts=1, paused_until=NOW, api_url="http://127.0.0.1:8765"))
    menu = app.menu
    for label in ("Open log file", "Open data folder", "Open API docs"):
        action = find_entry(menu, label).action
        assert action is not None
        action()
    assert opened == ["/logs/watchkeeper.log", "/data", "http://127.0.0.1:8765/docs"]
    action = find_entry(menu, "Watchkeeper").action
    assert action is not None
    action()
    assert adapter.notes[-1][0] == "Watchkeeper" and "1 open alert" in adapter.notes[-1][1]


@pytest.mark.parametrize("browser", [lambda url: False, lambda url: (_ for _ in ()).throw(RuntimeError("no BROWSER"))])
def test_open_api_docs_says_where_the_docs_are_when_no_browser_opens(browser: Any) -> None:
    adapter = FakeAdapter()
    app = TrayApp(FakeEngine(), adapter, submit=run_inline, now=lambda: NOW, tz=UTC, startup_module=lambda: None,
                  opener=lambda p: None, browser=browser, icon_loader=lambda s, c: (s, c))
    app.apply(snap(api_url="http://127.0.0.1:8765"))
    action = find_entry(app.menu, "Open API docs").action
    assert action is not None
    action()
    title, message = adapter.notes[-1]
    assert title == "Watchkeeper" and message.startswith("No web browser opened")
    assert message.endswith("The API docs are at http://127.0.0.1:8765/docs")


class DashboardServer:
    """The part of the API server the dashboard action uses."""

    def __init__(self, url: str | None = "http://127.0.0.1:8765", problem: str | None = None) -> None:
        from engine.login_tokens import OneTimeTokens

        self.url, self.problem, self.logins = url, problem, OneTimeTokens()


def test_open_dashboard_opens_a_one_time_login_url() -> None:
    engine, opened = FakeEngine(), []
    engine.services = [DashboardServer()]
    app = make_app(engine, opened=opened)
    app.apply(snap(api_url="http://127.0.0.1:8765"))
    action = find_entry(app.menu, "Open dashboard").action
    assert action is not None
    action()
    action()
    assert len(opened) == 2 and opened[0] != opened[1]
    for url in opened:
        prefix, token = url.split("#t=")
        assert prefix == "http://127.0.0.1:8765/ui/login"
        assert engine.services[0].logins.redeem(token)


@pytest.mark.parametrize("browser", [lambda url: False, lambda url: (_ for _ in ()).throw(RuntimeError("no BROWSER"))])
def test_open_dashboard_without_a_browser_says_how_and_never_shows_the_token(browser: Any,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    engine, adapter = FakeEngine(), FakeAdapter()
    engine.services = [DashboardServer()]
    app = TrayApp(engine, adapter, submit=run_inline, now=lambda: NOW, tz=UTC, startup_module=lambda: None,
                  opener=lambda p: None, browser=browser, icon_loader=lambda s, c: (s, c))
    app.apply(snap(api_url="http://127.0.0.1:8765"))
    with caplog.at_level(logging.DEBUG):
        find_entry(app.menu, "Open dashboard").action()  # type: ignore[misc]
    message = adapter.notes[-1][1]
    assert message.startswith("No web browser opened") and "watchkeeper dashboard --no-browser" in message
    assert "#t=" not in message and "#t=" not in caplog.text


def test_open_dashboard_when_the_api_failed_tells_why() -> None:
    engine, adapter = FakeEngine(), FakeAdapter()
    engine.services = [DashboardServer(url=None, problem="API port 8765 on 127.0.0.1 is busy")]
    app = make_app(engine, adapter)
    app.apply(snap(api_url="http://127.0.0.1:8765"))
    find_entry(app.menu, "Open dashboard").action()  # type: ignore[misc]
    assert adapter.notes[-1][1] == "the dashboard is not available: API port 8765 on 127.0.0.1 is busy"


def test_a_file_that_cannot_be_opened_is_told_not_only_logged() -> None:
    adapter = FakeAdapter()

    def opener(path: str) -> None:
        raise OSError("xdg-open not found")

    app = TrayApp(FakeEngine(), adapter, submit=run_inline, now=lambda: NOW, tz=UTC, startup_module=lambda: None,
                  opener=opener, browser=lambda u: True, icon_loader=lambda s, c: (s, c))
    app.apply(snap())
    action = find_entry(app.menu, "Open log file").action
    assert action is not None
    action()
    assert adapter.notes[-1][1] == "Could not open /logs/watchkeeper.log: xdg-open not found"


def test_start_at_login_shows_and_toggles_the_real_registration() -> None:
    adapter, startup = FakeAdapter(), FakeStartup(registered=False)
    app = make_app(adapter=adapter, startup=startup)
    app.apply(snap())
    assert "Start at login (disabled)" in menu_text(app.menu)  # not read yet
    app.refresh_startup()
    assert "[ ] Start at login\n" in menu_text(app.menu)
    action = find_entry(app.menu, "Start at login").action
    assert action is not None
    action()
    assert startup.actions == ["install"] and "[x] Start at login" in menu_text(adapter.menus[-1])
    unavailable = make_app(startup=None)
    unavailable.apply(snap())
    unavailable.refresh_startup()
    assert "[ ] Start at login (disabled)" in menu_text(unavailable.menu)


def test_callback_exceptions_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    engine = FakeEngine()  # it has no database: acknowledging on it fails
    app = make_app(engine)
    app.apply(snap(Health.ATTENTION, alerts=1))
    action = find_entry(app.menu, "Open alerts", "Stale", "Acknowledge").action
    assert action is not None
    action()  # does not raise
    assert "tray action 'acknowledge 10' failed" in caplog.text


def test_worker_runs_actions_off_the_calling_thread_and_survives_errors() -> None:
    worker, seen = Worker(), []
    worker.submit(lambda: 1 / 0, "boom")
    worker.submit(lambda: seen.append(threading.current_thread().name), "record")
    wait_until(lambda: seen, 5, message="the worker to run the action")
    assert seen == ["tray-actions"]


# -- lifecycle --------------------------------------------------------------------------------------


def test_quit_requests_stop_and_ends_the_loop() -> None:
    engine, adapter = FakeEngine(), FakeAdapter()
    app = make_app(engine, adapter)
    runner = threading.Thread(target=app.run)
    runner.start()
    assert adapter.running.wait(5)
    action = find_entry(app.menu, "Quit").action
    assert action is not None
    action()
    runner.join(5)
    assert not runner.is_alive()
    assert ("request_stop", ("tray quit",)) in engine.calls
    assert adapter.images[0] == (Health.STARTING, 0) and adapter.images[-1] == (Health.ATTENTION, 1)


def test_an_engine_stop_request_ends_the_loop_even_before_it_runs() -> None:
    engine, adapter = FakeEngine(), FakeAdapter()
    engine.request_stop("signal SIGTERM")  # before the tray started
    make_app(engine, adapter).run()  # returns at once
    assert adapter.stopped.is_set()


def test_with_a_real_engine(wk_home: Any) -> None:
    """Menu actions reach a started Engine and its snapshots come back to the icon."""
    from tests.helpers import parse_config

    quiet = {"enabled": False}  # nothing machine-dependent, no API port to contend for
    config = parse_config({"api": quiet, "checks": {"disk_space": quiet, "listening_ports": quiet,
                                                     "endpoint": quiet}}, {}, source=None)
    engine = Engine(wk_home, config, units_with_toast_service())  # a channel that delivers: health can be OK
    engine.start()
    adapter = FakeAdapter()
    app = TrayApp(engine, adapter, now=lambda: datetime.now(UTC), tz=UTC, startup_module=lambda: None,
                  opener=lambda p: None, browser=lambda u: None, icon_loader=lambda s, c: (s, c))
    runner = threading.Thread(target=app.run)
    runner.start()
    try:
        wait_until(lambda: adapter.images and adapter.images[-1] == (Health.OK, 0), 10,
                   message=f"OK icon (last {adapter.images[-1:]}, {engine.snapshot().health.summary})")
        action = find_entry(app.menu, "Pause alerts", "1 hour").action
        assert action is not None
        action()
        wait_until(lambda: adapter.images[-1] == (Health.PAUSED, 0), 10, message="PAUSED icon")
        assert engine.snapshot().paused_until is not None
        action = find_entry(app.menu, "Pause alerts", "Resume").action
        assert action is not None
        action()
        wait_until(lambda: adapter.images[-1] == (Health.OK, 0), 10, message="OK icon again")
        engine.request_stop("test")
        runner.join(10)
        assert not runner.is_alive()
    finally:
        engine.request_stop("test")
        runner.join(10)
        engine.stop("test")


class FakeIcon:
    """Stands in for pystray.Icon inside PystrayAdapter.run."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.visible = False
        self.stops = 0

    def run(self, setup: Any) -> None:
        setup(self)
        if self.error:
            raise self.error

    def stop(self) -> None:
        self.stops += 1


def test_pystray_adapter_wraps_run_and_stop() -> None:
    adapter = PystrayAdapter()  # dummy backend (tests/conftest.py)
    assert adapter.backend == "dummy"
    adapter.create(object(), "Watchkeeper")
    adapter.set_title("Watchkeeper: OK")
    assert adapter.icon.title == "Watchkeeper: OK"
    icon = FakeIcon(error=RuntimeError("GLib.GError: InvalidId"))
    adapter._icon = icon
    adapter.stop()  # a stop before the loop is ready is remembered
    ready: list[bool] = []
    adapter.run(lambda: ready.append(True))  # the error while stopping is swallowed
    assert icon.visible and icon.stops == 1 and ready == []
    fresh = PystrayAdapter()
    fresh._icon = FakeIcon(error=RuntimeError("backend broke"))
    with pytest.raises(RuntimeError, match="backend broke"):
        fresh.run(lambda: None)  # not stopping: the runner must see it (and exit the process)


# -- Windows end of session -------------------------------------------------------------------------


def test_session_end_messages_allow_logoff_and_stop_the_engine() -> None:
    engine = FakeEngine()
    handlers = session_handlers(engine)
    assert handlers[WM_QUERYENDSESSION](0, 0) == 1  # TRUE: do not veto the logoff
    assert handlers[WM_ENDSESSION](0, 0) == 0 and engine.calls == []  # the session goes on
    handlers[WM_ENDSESSION](1, 0)
    assert engine.calls == [("request_stop", ("windows session end",)), ("stop", ("windows session end",))]


def test_session_handlers_are_installed_only_on_win32_icons() -> None:
    icon = type("Win32Icon", (), {})()
    icon._message_handlers = {0x0401: print}
    assert install_session_handlers(icon, FakeEngine(), platform="win32")
    assert set(icon._message_handlers) == {0x0401, WM_QUERYENDSESSION, WM_ENDSESSION}
    assert not install_session_handlers(object(), FakeEngine(), platform="win32")  # private API gone
    assert not install_session_handlers(icon, FakeEngine(), platform="linux")


def test_gui_entry_point_runs_like_watchkeeper_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("engine.cli.main", lambda argv, **kw: seen.append(list(argv)) or 0)
    monkeypatch.setattr(sys, "argv", ["watchkeeperw", "--kill-orphans"])
    monkeypatch.setattr(sys, "stderr", None)
    assert tray_main.gui_main() == 0
    assert seen == [["run", "--kill-orphans"]]
    assert sys.stderr is not None
    sys.stderr.close()


def test_health_report_summary_is_what_show_status_sends() -> None:
    adapter = FakeAdapter()
    engine = FakeEngine()
    engine.current = snap(Health.DEGRADED, ["job x failing"])
    app = make_app(engine, adapter)
    app.show_status()
    assert adapter.notes[-1][1].startswith(HealthReport(Health.DEGRADED, ["job x failing"]).summary)


class _FakeXorgIcon:
    """Stands in for pystray's xorg Icon: counts show/hide cycles."""

    class _Window:
        id = 4242

    def __init__(self) -> None:
        self._window = self._Window()
        self.shows = 0
        self._visible = True

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = value
        self.shows += int(value)


def test_icon_that_did_not_dock_is_shown_again_until_embedded():
    from tray.app import ensure_xorg_docked

    icon, answers, requests = _FakeXorgIcon(), iter([False, False, True]), []
    assert ensure_xorg_docked(icon, threading.Event(), attempts=3, wait=0.01, docked=lambda wid: next(answers, True),
                              request_dock=lambda wid: requests.append(wid) or True)
    assert requests and set(requests) == {icon._window.id}
    assert icon.shows == 0  # never through pystray's loop (its re-show can wait forever)


def test_docking_gives_up_after_the_attempts_and_says_so(caplog):
    from tray.app import ensure_xorg_docked

    icon, requests = _FakeXorgIcon(), []
    assert not ensure_xorg_docked(icon, threading.Event(), attempts=2, wait=0.01, docked=lambda wid: False,
                                  request_dock=lambda wid: requests.append(wid) or False)
    assert len(requests) == 2 and "did not embed the icon" in caplog.text


def test_reload_settings_applies_the_edited_config_and_says_what_changed(wk_home, monkeypatch) -> None:
    from engine import config_watch
    from engine.compose import load_config

    monkeypatch.setattr(config_watch, "POLL_SECONDS", 3600.0)  # the menu item, not the watcher, applies it
    base = "[api]\nenabled = false\n[archive]\nenabled = false\n[toast]\nenabled = false\n"
    wk_home.config_file.write_text(base)
    engine = Engine(wk_home, load_config(wk_home.config_file, UNITS), UNITS)
    engine.start()
    try:
        adapter = FakeAdapter()
        app = make_app(engine=engine, adapter=adapter)
        wk_home.config_file.write_text(base + "[checks.goal_staleness]\ncooldown = \"1d\"\n")
        app.callbacks.reload_settings()
        assert adapter.notes[-1] == ("Watchkeeper", "reloaded config.toml: checks.goal_staleness")
        assert "reloaded config.toml" in (app.feedback or "")
        wk_home.config_file.write_text(base + "[alerts\n")
        app.callbacks.reload_settings()
        assert adapter.notes[-1][1].startswith("config.toml invalid:")
    finally:
        engine.stop("test")
