"""Composition of the tray: the engine's snapshots drive a pystray icon on the main thread.

``tray.main`` hands ``tray_runner_if_available`` to the engine's runner as its frontend: called
after the engine started, the returned ``run_tray(engine)`` blocks on the main thread until Quit,
``watchkeeper stop`` or a signal, then the runner stops the engine. pystray is imported only inside functions (its xorg
backend raises at import on a display-less Linux) and only behind ``PystrayAdapter``, which tests
replace with a fake.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from engine.actions import alerts, checks, dashboard, instance, reload
from engine.actions.errors import ActionError, NotFound
from engine.actions.target import connected
from engine.health import Health
from engine.timeutil import utcnow
from tray import feedback
from tray import menu as tray_menu
from tray.icons import load_icon

if TYPE_CHECKING:
    from PIL.Image import Image

    from engine.engine import Engine
    from engine.snapshot import Snapshot

log = logging.getLogger(__name__)

APP_NAME = "Watchkeeper"
HOST_RECHECK_SECONDS = 10.0  # how often a display without a tray host is asked again
WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016


# -- can a tray be shown here? ------------------------------------------------------------------


def x11_tray_host(display_name: str) -> bool:
    """Whether an XEMBED tray host owns ``_NET_SYSTEM_TRAY_S<screen>`` on ``display_name``."""
    from Xlib import X, display, error

    try:
        disp = display.Display(display_name)
    except (error.DisplayError, OSError, ValueError) as exc:
        log.debug("cannot open display %r: %s", display_name, exc)
        return False
    try:
        atom = disp.intern_atom(f"_NET_SYSTEM_TRAY_S{disp.get_default_screen()}")
        return bool(disp.get_selection_owner(atom) != X.NONE)
    finally:
        disp.close()


def gtk_importable() -> bool:
    """Whether PyGObject with GTK 3 is available (the optional ``gtk`` extra)."""
    if importlib.util.find_spec("gi") is None:
        return False
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk  # noqa: F401
    except (ImportError, ValueError) as exc:
        log.debug("PyGObject present but GTK 3 unusable: %s", exc)
        return False
    return True


def choose_linux_backend(env: Mapping[str, str], gtk_ok: Callable[[], bool] = gtk_importable) -> str:
    """pystray backend for Linux: the user's PYSTRAY_BACKEND, else gtk when usable, else xorg."""
    wanted = env.get("PYSTRAY_BACKEND", "")
    if wanted:
        return wanted
    return "gtk" if gtk_ok() else "xorg"


def unavailable_reason(env: Mapping[str, str], platform: str,
                       host_probe: Callable[[str], bool] = x11_tray_host) -> str | None:
    """Why no tray can be shown here (None when it can)."""
    if env.get("PYSTRAY_BACKEND") == "dummy":
        return "PYSTRAY_BACKEND=dummy"
    if platform == "win32" or platform == "darwin":
        return None
    display_name = env.get("DISPLAY", "")
    if not display_name:
        return "no X display (DISPLAY unset" + (", Wayland without XWayland)" if env.get("WAYLAND_DISPLAY") else ")")
    if not host_probe(display_name):
        return f"no system tray host on display {display_name}"
    return None


def tray_runner_if_available(env: Mapping[str, str] | None = None, platform: str | None = None,
                             host_probe: Callable[[str], bool] = x11_tray_host,
                             ) -> Callable[[Engine], None] | None:
    """``run_tray`` when a tray icon can be shown here, else None (the runner goes headless).

    On Linux this also picks the pystray backend (gtk when PyGObject is importable, else xorg)
    by setting PYSTRAY_BACKEND before pystray is imported.

    A display without a tray host yet (a panel that starts after login) gets a runner that stays
    headless and asks the display again every ``HOST_RECHECK_SECONDS``, showing the icon once a host
    appears (``run_tray_when_host_appears``).
    """
    real_env = env is None
    env = dict(os.environ) if env is None else dict(env)
    platform = sys.platform if platform is None else platform
    reason = unavailable_reason(env, platform, host_probe)
    waiting = reason is not None and reason.startswith("no system tray host")
    if reason is not None and not waiting:
        log.debug("tray unavailable: %s", reason)
        return None
    if platform.startswith("linux") and real_env:
        os.environ["PYSTRAY_BACKEND"] = choose_linux_backend(env)
    if waiting:
        return run_tray_when_host_appears(env["DISPLAY"], host_probe)
    return run_tray


def run_tray_when_host_appears(display_name: str, host_probe: Callable[[str], bool] = x11_tray_host,
                               interval: float = HOST_RECHECK_SECONDS,
                               run: Callable[[Engine], None] | None = None) -> Callable[[Engine], None]:
    """A tray runner for a display with no tray host yet: headless until ``host_probe`` finds one
    (asked every ``interval`` seconds), then the tray (``run``, default run_tray); returns when a
    stop is requested."""

    def run_later(engine: Engine) -> None:
        log.info("running headless: no system tray host on display %s yet; checking again every %.0f s",
                 display_name, interval)
        while not engine.stop_requested.wait(interval):
            if host_probe(display_name):
                log.info("a system tray host appeared on display %s; showing the tray icon", display_name)
                (run or run_tray)(engine)
                return

    return run_later


# -- the pystray adapter ---------------------------------------------------------------------------


class TrayAdapter(Protocol):
    """What TrayApp needs from a tray icon; PystrayAdapter is the real one."""

    has_menu: bool
    has_notification: bool
    backend: str

    def create(self, image: Image, title: str) -> None: ...
    def set_image(self, image: Image) -> None: ...
    def set_title(self, title: str) -> None: ...
    def set_menu(self, entries: tuple[tray_menu.MenuEntry, ...]) -> None: ...
    def notify(self, message: str, title: str) -> None: ...
    def run(self, on_ready: Callable[[], None]) -> None: ...
    def stop(self) -> None: ...


class PystrayAdapter:
    """A pystray Icon behind the TrayAdapter methods; the icon is created on the calling thread."""

    def __init__(self) -> None:
        if os.environ.get("PYSTRAY_BACKEND") in ("gtk", "appindicator"):
            _set_program_name()
        import pystray

        self._pystray = pystray
        self._icon: Any = None
        self._ready = threading.Event()
        self._stop_requested = threading.Event()
        module = pystray.Icon.__module__.rsplit(".", 1)[-1].lstrip("_")
        self.backend = "dummy" if module == "base" else module  # the dummy backend reuses _base.Icon
        self.has_menu = bool(pystray.Icon.HAS_MENU)
        self.has_notification = bool(pystray.Icon.HAS_NOTIFICATION)

    @property
    def icon(self) -> Any:
        return self._icon

    def create(self, image: Image, title: str) -> None:
        self._icon = self._pystray.Icon("watchkeeper", image, title)

    def set_image(self, image: Image) -> None:
        self._icon.icon = image

    def set_title(self, title: str) -> None:
        self._icon.title = title

    def set_menu(self, entries: tuple[tray_menu.MenuEntry, ...]) -> None:
        self._icon.menu = tray_menu.to_pystray(entries)  # the setter calls update_menu()

    def notify(self, message: str, title: str) -> None:
        self._icon.notify(message, title)

    def run(self, on_ready: Callable[[], None]) -> None:
        """icon.run() with the setup callback; errors while stopping are logged, not raised."""

        def setup(icon: Any) -> None:
            icon.visible = True
            if self.backend == "xorg":
                ensure_xorg_docked(icon, stopping=self._stop_requested)
            self._ready.set()
            if self._stop_requested.is_set():
                icon.stop()
                return
            try:
                on_ready()
            except Exception:
                log.exception("tray on_ready failed")

        try:
            self._icon.run(setup)
        except Exception:
            if not self._stop_requested.is_set():
                raise
            # gtk: GLib.GError org.freedesktop.Notifications.InvalidId from _finalize
            log.debug("ignored error from the tray loop while stopping", exc_info=True)

    def stop(self) -> None:
        """End the loop; safe from any thread, before or during run()."""
        self._stop_requested.set()
        if self._icon is not None and self._ready.is_set():
            self._icon.stop()


def xorg_docked(window_id: int) -> bool:
    """Whether the X window is shown inside a tray host: reparented away from the root window, and
    viewable (a host can take the window and still leave it unmapped), asked of the X server itself."""
    from Xlib import X
    from Xlib import display as xdisplay

    connection = xdisplay.Display()
    try:
        window = connection.create_resource_object("window", window_id)
        if window.query_tree().parent.id == connection.screen().root.id:
            return False
        return bool(window.get_attributes().map_state == X.IsViewable and window.get_geometry().width > 0)
    finally:
        connection.close()


def xorg_request_dock(window_id: int) -> bool:
    """Ask the tray host (the owner of ``_NET_SYSTEM_TRAY_S<screen>``) to embed the window, over a
    connection of our own. pystray's own re-show (``icon.visible``) waits for its loop to run the
    request and can wait forever when the loop misses the message; the XEMBED dock request names the
    window, so any client may send it. False when no tray host owns the selection now."""
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib.protocol import event

    connection = xdisplay.Display()
    try:
        selection = connection.intern_atom(f"_NET_SYSTEM_TRAY_S{connection.get_default_screen()}")
        owner = connection.get_selection_owner(selection)
        if owner == X.NONE:
            return False
        opcode = connection.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
        message = event.ClientMessage(window=owner, client_type=opcode,
                                      data=(32, (X.CurrentTime, 0, window_id, 0, 0)))  # 0: REQUEST_DOCK
        owner.send_event(message, event_mask=X.NoEventMask)
        connection.flush()
        return True
    finally:
        connection.close()


def ensure_xorg_docked(icon: Any, stopping: threading.Event, attempts: int = 5, wait: float = 1.0,
                       docked: Callable[[int], bool] = xorg_docked,
                       request_dock: Callable[[int], bool] = xorg_request_dock) -> bool:
    """pystray's xorg backend sometimes sends its dock request before the tray host can act on it, and
    the icon stays an unmapped 1x1 window. Check with the X server and send the dock request again
    until a tray host has embedded it (or give up after ``attempts``, saying so)."""
    window_id = getattr(getattr(icon, "_window", None), "id", None)
    if window_id is None:
        return False
    for attempt in range(attempts):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if docked(window_id):
                return True
            if stopping.wait(0.05):
                return False
        log.info("tray icon not docked yet (attempt %d); asking the tray host again", attempt + 1)
        try:
            request_dock(window_id)
        except Exception:  # python-xlib's error family, or the display gone
            log.debug("dock request failed", exc_info=True)
    log.warning("the tray host did not embed the icon; the engine keeps running without a visible icon")
    return False


def _set_program_name() -> None:
    """Name the GTK program (WM_CLASS of the tray window, the app name in notifications)."""
    try:
        from gi.repository import GLib

        GLib.set_prgname("watchkeeper")
        GLib.set_application_name(APP_NAME)
    except Exception:
        log.debug("could not set the GLib program name", exc_info=True)


# -- actions ----------------------------------------------------------------------------------------


class Worker:
    """One daemon thread that runs menu actions so the tray thread never blocks."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[], Any], str]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="tray-actions", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any], label: str) -> None:
        self._queue.put((fn, label))

    def _loop(self) -> None:
        while True:
            fn, label = self._queue.get()
            try:
                fn()
            except Exception:
                log.exception("tray action %r failed", label)


def run_inline(fn: Callable[[], Any], label: str) -> None:
    """A submit() that runs at once (tests)."""
    try:
        fn()
    except Exception:
        log.exception("tray action %r failed", label)


def load_startup_module() -> Any:
    """engine.platform.startup when it exists (start at login), else None."""
    try:
        from engine.platform import startup
    except ImportError:
        return None
    return startup


class TrayController:
    """The MenuCallbacks: runs each action (engine.actions, on the engine) through ``submit`` (never blocking)."""

    def __init__(self, app: TrayApp, submit: Callable[[Callable[[], Any], str], None],
                 opener: Callable[[str], None], browser: Callable[[str], Any]):
        self.app = app
        self.engine = app.engine
        self.submit = submit
        self.opener = opener
        self.browser = browser

    def show_status(self) -> None:
        self.submit(self.app.show_status, "show status")

    def _act(self, fn: Callable[[], str], label: str) -> None:
        """Submit ``fn``; the line it returns (or the refusal's message) is told to the user."""

        def run() -> None:
            try:
                message = fn()
            except ActionError as exc:
                message = str(exc)
            self.app.tell(message)

        self.submit(run, label)

    def acknowledge(self, alert_id: int) -> None:
        def run() -> str:
            alerts.acknowledge(self.engine, alert_id)
            return "Alert acknowledged"

        self._act(run, f"acknowledge {alert_id}")

    def snooze(self, alert_id: int, duration: timedelta) -> None:
        def run() -> str:
            alerts.snooze(self.engine, alert_id, duration)
            return feedback.snoozed(duration)

        self._act(run, f"snooze {alert_id}")

    def _run_checks(self, names: list[str] | None) -> str:
        with connected(self.engine):
            runs = checks.run_checks(self.engine, names, "tray").runs
        return feedback.checks_run(runs) if runs else "No check is enabled"

    def run_check(self, name: str) -> None:
        self._act(lambda: self._run_checks([name]), f"run {name}")

    def run_all_checks(self) -> None:
        self._act(lambda: self._run_checks(None), "run all checks")

    def _pause(self, until: datetime) -> str:
        instance.pause_until(self.engine, until)
        return feedback.paused(until, self.app.tz, self.app.now())

    def pause_for(self, duration: timedelta) -> None:
        self._act(lambda: self._pause(self.app.now() + duration), f"pause {duration}")

    def pause_until_morning(self) -> None:
        self._act(lambda: self._pause(tray_menu.tomorrow_at(self.app.now(), self.app.tz)), "pause until morning")

    def resume(self) -> None:
        def run() -> str:
            instance.resume(self.engine)
            return feedback.paused(None, self.app.tz, self.app.now())

        self._act(run, "resume")

    def archive_now(self) -> None:
        def run() -> str:
            try:
                checks.schedule_job(self.engine, "archive")
            except NotFound:
                log.warning("tray: no scheduled job 'archive' to run")
                return "The archive is off ([archive] enabled = false)"
            return "Archiving conversations in the background"

        self._act(run, "archive now")

    def _open(self, path: str) -> None:
        try:
            self.opener(path)
        except Exception as exc:
            log.warning("tray: could not open %s", path, exc_info=True)
            self.app.tell(feedback.open_failed(path, str(exc) or type(exc).__name__))

    def open_log(self) -> None:
        self.submit(lambda: self._open(str(self.engine.paths.log_file)), "open log")

    def open_data_folder(self) -> None:
        self.submit(lambda: self._open(str(self.engine.paths.data_dir)), "open data folder")

    def _browse(self, url: str, shown: str, failed: Callable[[str | None], str]) -> None:
        """Open ``url`` in the browser; a failure is logged naming ``shown`` (never a token) and told
        to the user in ``failed(error)``'s words."""
        try:
            opened = self.browser(url)
        except Exception as exc:  # webbrowser raises for a broken BROWSER setting
            log.warning("tray: no browser for %s", shown)
            self.app.tell(failed(str(exc) or type(exc).__name__))
            return
        if opened is False:
            self.app.tell(failed(None))

    def open_dashboard(self) -> None:
        """Open the dashboard with a one-time login URL (engine.actions.dashboard)."""

        def run() -> None:
            try:
                url = dashboard.login_url(self.engine)
            except ActionError as exc:
                self.app.tell(str(exc))
                return
            # The login URL is good once, so a failure names the dashboard, not the token.
            self._browse(url, "the dashboard", feedback.dashboard_browser_failed)

        self.submit(run, "open dashboard")

    def open_api_docs(self) -> None:
        def run() -> None:
            url = self.app.snapshot.api_url if self.app.snapshot else None
            if not url:
                return
            docs = url.rstrip("/") + "/docs"
            self._browse(docs, docs, lambda error: feedback.browser_failed(docs, error))

        self.submit(run, "open API docs")

    def edit_settings(self) -> None:
        def run() -> None:
            from engine.compose import ensure_config_file

            ensure_config_file(self.engine.paths.config_file, self.engine.units)
            self._open(str(self.engine.paths.config_file))

        self.submit(run, "edit settings")

    def reload_settings(self) -> None:
        """Apply the edited config.toml now and say what changed (or what is wrong)."""
        self._act(lambda: reload.reload_settings(self.engine).text, "reload settings")

    def toggle_startup(self) -> None:
        self.submit(self.app.toggle_startup, "toggle start at login")

    def quit(self) -> None:
        """Immediate (not queued): ask the engine to stop and end the tray loop."""
        log.info("quit from the tray")
        self.engine.request_stop("tray quit")
        self.app.adapter.stop()


# -- the app -------------------------------------------------------------------------------------------


class TrayApp:
    """Applies engine snapshots to the icon (image, tooltip, menu) and runs the tray loop."""

    def __init__(self, engine: Engine, adapter: TrayAdapter, *,
                 submit: Callable[[Callable[[], Any], str], None] | None = None,
                 now: Callable[[], datetime] = utcnow, tz: tzinfo | None = None,
                 startup_module: Callable[[], Any] = load_startup_module,
                 opener: Callable[[str], None] | None = None,
                 browser: Callable[[str], Any] | None = None,
                 icon_loader: Callable[[Health, int], Image] = load_icon):
        self.engine = engine
        self.adapter = adapter
        self.now = now
        self.tz = tz if tz is not None else _engine_timezone(engine)
        self._startup_module = startup_module
        self._icon_loader = icon_loader
        self._lock = threading.RLock()
        self.snapshot: Snapshot | None = None
        self.startup_registered: bool | None = None
        self.menu: tuple[tray_menu.MenuEntry, ...] = ()
        self._image_key: tuple[Health, int] | None = None
        self._title: str | None = None
        self._menu_text: str | None = None
        self.feedback: str | None = None  # what the last menu action did, shown in the tooltip
        if submit is None:
            submit = Worker().submit
        if opener is None:
            from engine.platform import current

            opener = current.open_path
        if browser is None:
            import webbrowser

            browser = webbrowser.open
        self.callbacks = TrayController(self, submit, opener, browser)
        self.submit = submit

    # -- snapshots -----------------------------------------------------------------------------------

    def apply(self, snap: Snapshot) -> None:
        """Update image, tooltip and menu for ``snap`` (from any thread; only what changed)."""
        try:
            with self._lock:
                self.snapshot = snap
                self._render()
        except Exception:
            log.exception("could not apply a snapshot to the tray")

    def _render(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        now = self.now()
        key = (snap.state, snap.alerts.attention if snap.state is Health.ATTENTION else 0)
        if key != self._image_key:
            self.adapter.set_image(self._icon_loader(*key))
            self._image_key = key
        title = tray_menu.tooltip(snap, self.tz, now, self.feedback)
        if title != self._title:
            self.adapter.set_title(title)
            self._title = title
        self.menu = tray_menu.build_menu(snap, self.startup_registered, self.callbacks, tz=self.tz, now=now)
        text = tray_menu.menu_text(self.menu)
        if text != self._menu_text and self.adapter.has_menu:
            self.adapter.set_menu(self.menu)
        self._menu_text = text

    # -- actions that need the app ---------------------------------------------------------------

    def refresh_startup(self) -> None:
        """Read the real start-at-login registration (None: unavailable) and re-render."""
        module = self._startup_module()
        registered: bool | None = None
        if module is not None:
            try:
                registered = bool(module.status().registered)
            except Exception:
                log.exception("could not read the start-at-login registration")
        with self._lock:
            if registered != self.startup_registered:
                self.startup_registered = registered
                self._render()

    def toggle_startup(self) -> None:
        module = self._startup_module()
        if module is None:
            log.warning("start at login is not available in this build")
            return
        if module.status().registered:
            module.uninstall()
        else:
            module.install()
        self.refresh_startup()

    def tell(self, message: str) -> None:
        """Show what a menu action did: a notification where the backend has them, and the tooltip."""
        log.info("tray: %s", message)
        with self._lock:
            self.feedback = message
            self._render()
        if self.adapter.has_notification:
            try:
                self.adapter.notify(message, APP_NAME)
            except Exception:
                log.warning("tray: could not show a notification", exc_info=True)

    def show_status(self) -> None:
        snap = self.snapshot or self.engine.snapshot()
        message = tray_menu.status_message(snap, self.tz, self.now())
        if self.adapter.has_notification:
            self.adapter.notify(message, APP_NAME)
        else:
            log.info("status: %s", message.replace("\n", "; "))

    # -- lifecycle -------------------------------------------------------------------------------------

    def run(self) -> None:
        """Create the icon, follow snapshots, block in the tray loop until a stop is requested."""
        self.adapter.create(self._icon_loader(Health.STARTING, 0), APP_NAME)
        self._image_key = (Health.STARTING, 0)
        self.engine.on_stop_request(self.adapter.stop)
        if self.engine.stop_requested.is_set():
            self.adapter.stop()
        install_session_handlers(getattr(self.adapter, "icon", None), self.engine)
        self.engine.subscribe(self.apply)
        self.submit(self.refresh_startup, "read start-at-login")
        sigint = _current_sigint()
        self.adapter.run(lambda: self._on_ready(sigint))
        log.info("tray loop ended (%s)", self.engine.stop_reason)

    def _on_ready(self, sigint: Any) -> None:
        log.info("tray icon shown (pystray backend %s)", self.adapter.backend)
        if self.adapter.backend == "gtk" and sigint is not None:
            _restore_sigint_gtk(sigint)


def _engine_timezone(engine: Any) -> tzinfo | None:
    try:
        from engine.timeutil import resolve_timezone

        zone = resolve_timezone(engine.config.general.timezone)
        return zone if isinstance(zone, tzinfo) else None
    except Exception:
        log.debug("no configured timezone; using the system's", exc_info=True)
        return None


def _current_sigint() -> Any:
    try:
        return signal.getsignal(signal.SIGINT)
    except (ValueError, AttributeError):
        return None


def _restore_sigint_gtk(handler: Any) -> None:
    """pystray's gtk backend sets SIGINT to SIG_DFL (Ctrl+C would kill without a clean stop);
    put the runner's handler back from the GLib main loop, which runs on the main thread."""
    try:
        from gi.repository import GLib

        def restore() -> bool:
            try:
                signal.signal(signal.SIGINT, handler)
            except (ValueError, TypeError):
                pass
            return False

        GLib.idle_add(restore)
    except Exception:
        log.debug("could not restore the SIGINT handler", exc_info=True)


# -- Windows end of session --------------------------------------------------------------------------


def session_handlers(engine: Any) -> dict[int, Callable[[int, int], int]]:
    """Window-message handlers so logoff/shutdown neither is vetoed nor loses state.

    pystray's window procedure answers unknown messages with 0, which to WM_QUERYENDSESSION means
    "do not end the session". WM_ENDSESSION with wParam TRUE: the session ends
    after we return, so the engine is stopped right here, within the shutdown bound.
    """

    def on_query_end_session(wparam: int, lparam: int) -> int:
        return 1

    def on_end_session(wparam: int, lparam: int) -> int:
        if wparam:
            engine.request_stop("windows session end")
            engine.stop("windows session end")
        return 0

    return {WM_QUERYENDSESSION: on_query_end_session, WM_ENDSESSION: on_end_session}


def install_session_handlers(icon: Any, engine: Any, platform: str | None = None) -> bool:
    """Add session_handlers to a win32 pystray icon's private ``_message_handlers`` (guarded)."""
    if (sys.platform if platform is None else platform) != "win32":
        return False
    handlers = getattr(icon, "_message_handlers", None)
    if not isinstance(handlers, dict):
        log.warning("pystray has no _message_handlers; logoff may be vetoed by the tray window")
        return False
    handlers.update(session_handlers(engine))
    return True


# -- entry points -------------------------------------------------------------------------------------


def run_tray(engine: Engine, adapter_factory: Callable[[], TrayAdapter] | None = None) -> None:
    """The tray runner: blocks on the main thread until the app should exit."""
    adapter = adapter_factory() if adapter_factory is not None else PystrayAdapter()
    TrayApp(engine, adapter).run()

