"""Desktop toast channel built on plyer.

plyer's backends fail silently in ways the caller never sees:
on Windows a title over 64 or a message over 256 UTF-16 units raises inside
plyer's own worker thread, and the Windows backend sleeps for the display time;
on Linux ``notify-send`` failures are ignored. This module therefore

* truncates text before calling plyer (:func:`fit_toast`),
* hands plyer's Linux backends the arguments they actually read: plyer's public ``notify()``
  passes only ``app_icon`` and ``timeout``, which the ``notify-send`` backend ignores (it reads
  ``icon``, ``expire_time`` in milliseconds and ``urgency``; without them the toast has no icon
  and never expires), so on Linux the backend is called with both sets (:func:`toast_arguments`),
  with the icon of the message's severity and a finite expiry,
* calls plyer in a daemon thread and waits at most ``wait_timeout`` seconds,
  with at most one call in flight, so a hung backend cannot pile up threads,
* on Linux probes the freedesktop notification service over D-Bus
  (``GetServerInformation`` via ``gdbus`` or ``dbus-send``; this also triggers
  D-Bus activation of an installed-but-idle daemon) and reports a missing
  service as a transient :class:`~engine.channels.base.ChannelError`.

The probe decision is pure (:func:`interpret_probe`, :func:`decide_availability`);
the subprocess runner is injectable so tests need no desktop.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.assets import asset_path, severity_icon_name
from engine.channels.base import (
    UNAVAILABLE,
    BuildContext,
    ChannelError,
    ChannelLimits,
    ChannelSpec,
    Delivery,
    OutgoingMessage,
)
from engine.config import opt
from engine.platform import IS_WINDOWS
from engine.vocabulary import NotificationKind, Severity

if TYPE_CHECKING:
    from engine.config import Config

__all__ = [
    "BODY_MAX",
    "ELLIPSIS",
    "SPEC",
    "TITLE_MAX",
    "ToastChannel",
    "ToastSettings",
    "decide_availability",
    "default_runner",
    "fit_toast",
    "interpret_probe",
    "probe_notification_service",
    "severity_icons",
    "toast_arguments",
]

log = logging.getLogger(__name__)

ELLIPSIS = "…"
# Windows NOTIFYICONDATAW has szInfoTitle[64] and szInfo[256] WCHARs, including the
# terminating NUL: keep one unit free. Units are UTF-16 code units, not code points.
TITLE_MAX = 63
BODY_MAX = 255

GDBUS_PROBE: tuple[str, ...] = (
    "gdbus",
    "call",
    "--session",
    "--dest",
    "org.freedesktop.Notifications",
    "--object-path",
    "/org/freedesktop/Notifications",
    "--method",
    "org.freedesktop.Notifications.GetServerInformation",
)
DBUS_SEND_PROBE: tuple[str, ...] = (
    "dbus-send",
    "--session",
    "--print-reply",
    "--reply-timeout=2000",
    "--dest=org.freedesktop.Notifications",
    "/org/freedesktop/Notifications",
    "org.freedesktop.Notifications.GetServerInformation",
)

Runner = Callable[[Sequence[str], float], tuple[int, str]]
"""Runs argv with a timeout and returns (returncode, combined output).

Raises ``FileNotFoundError`` when the executable does not exist.
"""


# How long a toast stays up, seconds (finite on purpose: a critical one only stays longer).
DISPLAY_SECONDS: dict[str, int] = {Severity.INFO: 8, Severity.WARNING: 10, Severity.CRITICAL: 30}
# freedesktop urgency per severity; "critical" urgency is not used because notification servers
# never expire such a notification, whatever the timeout.
URGENCY: dict[str, str] = {Severity.INFO: "low", Severity.WARNING: "normal", Severity.CRITICAL: "normal"}


class Notifier(Protocol):
    """What shows a toast: ``plyer``'s backend called with :func:`toast_arguments`."""

    def __call__(self, **kwargs: Any) -> object: ...


def toast_arguments(title: str, message: str, *, app_name: str, icon: str, seconds: int,
                    urgency: str) -> dict[str, Any]:
    """The keyword arguments every plyer backend reads: ``app_icon``/``timeout`` (seconds; D-Bus,
    Windows, macOS) and ``icon``/``expire_time`` (milliseconds, as text)/``urgency`` (notify-send)."""
    return {"title": title, "message": message, "app_name": app_name, "app_icon": icon, "timeout": seconds,
            "icon": icon, "expire_time": str(seconds * 1000), "urgency": urgency, "hint": "string:x-watchkeeper:1",
            "hints": {}, "ticker": "", "toast": False}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _truncate(text: str, limit: int) -> str:
    if _utf16_len(text) <= limit:
        return text
    budget = limit - _utf16_len(ELLIPSIS)
    out: list[str] = []
    used = 0
    for ch in text:
        cost = 2 if ord(ch) > 0xFFFF else 1
        if used + cost > budget:
            break
        out.append(ch)
        used += cost
    return "".join(out).rstrip() + ELLIPSIS


def fit_toast(title: str, body: str) -> tuple[str, str]:
    """Return (title, body) cut to the Windows balloon limits with an ellipsis.

    The title becomes one line; NUL characters (which would end the C string
    early) are removed. Lengths are counted in UTF-16 units, as Windows does.
    """
    clean_title = " ".join(title.replace("\x00", "").split())
    clean_body = body.replace("\x00", "").strip()
    return _truncate(clean_title, TITLE_MAX), _truncate(clean_body, BODY_MAX)


def interpret_probe(returncode: int | None, output: str) -> bool | None:
    """Map one probe run to True (service answered), False (not reachable) or None.

    ``returncode`` None means the probe tool is not installed (no verdict).
    """
    if returncode is None:
        return None
    return returncode == 0


def decide_availability(
    platform: str, in_flatpak: bool, verdicts: Sequence[tuple[bool | None, str]]
) -> tuple[bool, str]:
    """Decide whether a toast can be shown: (available, reason).

    Only Linux is checked (plyer reports failures elsewhere, or the platform has
    a single always-present backend). Inside Flatpak plyer uses the desktop
    portal, which the freedesktop probe does not cover. The first probe with a
    verdict decides; with no probe tool at all we let plyer try.
    """
    if not platform.startswith("linux"):
        return True, "not linux: no probe needed"
    if in_flatpak:
        return True, "flatpak: plyer uses the desktop portal"
    for verdict, output in verdicts:
        if verdict is True:
            return True, "notification service answered"
        if verdict is False:
            detail = " ".join(output.split())[:200]
            return False, f"no freedesktop notification service reachable: {detail}"
    return True, "no D-Bus probe tool installed: unverified"


def default_runner(argv: Sequence[str], timeout: float) -> tuple[int, str]:
    """Run *argv* without a shell; a timeout counts as failure (returncode 124)."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]} timed out after {timeout}s"
    return proc.returncode, (proc.stdout or "") + (proc.stderr or "")


def probe_notification_service(
    runner: Runner, timeout: float = 3.0
) -> list[tuple[bool | None, str]]:
    """Run the D-Bus probes until one gives a verdict; return every (verdict, output)."""
    verdicts: list[tuple[bool | None, str]] = []
    for argv in (GDBUS_PROBE, DBUS_SEND_PROBE):
        try:
            returncode, output = runner(argv, timeout)
        except FileNotFoundError:
            verdicts.append((None, f"{argv[0]} not installed"))
            continue
        except OSError as exc:
            verdicts.append((False, f"{argv[0]} failed to start: {exc}"))
            break
        verdict = interpret_probe(returncode, output)
        verdicts.append((verdict, output))
        if verdict is not None:
            break
    return verdicts


def _plyer_notify(**kwargs: Any) -> object:
    from plyer import notification  # lazy: plyer picks its backend on first use

    # The facade's notify() drops every argument but app_icon and timeout; the backend's _notify
    # takes them all (each backend reads the ones it knows, with .get).
    return notification._notify(**kwargs)  # type: ignore[attr-defined]


def _in_flatpak() -> bool:
    return os.path.exists("/.flatpak-info") or os.path.exists("/app")


class ToastChannel:
    """Desktop notification through plyer; never blocks the caller for long.

    Args:
        app_icon: icon path (an ``.ico`` on Windows), or None for the default; used when
            ``severity_icons`` has no icon for a message's severity.
        severity_icons: icon path per severity (the Linux and macOS toasts).
        app_name: shown as the notification's application.
        notifier: replaces ``plyer.notification.notify`` (tests).
        runner: replaces the subprocess runner used for the Linux probe (tests).
        platform: replaces ``sys.platform`` (tests).
        wait_timeout: longest time ``notify`` waits for the backend call.
        display_seconds: how long a toast stays up per severity, seconds (finite).
        probe_ttl: seconds a Linux probe's answer (either way) is trusted before re-probing.
    """

    name = "toast"

    def __init__(
        self,
        app_icon: str | None = None,
        *,
        severity_icons: dict[str, str] | None = None,
        app_name: str = "Watchkeeper",
        notifier: Notifier | None = None,
        runner: Runner | None = None,
        platform: str | None = None,
        in_flatpak: bool | None = None,
        wait_timeout: float = 5.0,
        display_seconds: dict[str, int] | None = None,
        probe_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app_icon = app_icon or ""
        self._severity_icons = dict(severity_icons or {})
        self._app_name = app_name
        self._notifier: Notifier = notifier or _plyer_notify
        self._runner: Runner = runner or default_runner
        self._platform = platform or sys.platform
        self._in_flatpak = _in_flatpak() if in_flatpak is None else in_flatpak
        self._wait_timeout = wait_timeout
        self._display_seconds = {**DISPLAY_SECONDS, **(display_seconds or {})}
        self._probe_ttl = probe_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._available_until = float("-inf")
        self._verdict: tuple[bool, str] = (True, "not probed")
        self._probing = False
        self._inflight: concurrent.futures.Future[object] | None = None
        self._closed = False

    def available(self, *, wait: bool = True) -> tuple[bool, str]:
        """Return (available, reason); an answer is cached for ``probe_ttl`` (so status and the
        tray can ask often), then the service is probed again. ``wait=False`` (status, the
        snapshot) waits only for the very first probe; later it answers from the cache and re-probes
        in the background, so a hung session bus cannot stall every heartbeat."""
        if not self._platform.startswith("linux"):
            return decide_availability(self._platform, self._in_flatpak, [])
        with self._lock:
            fresh = self._clock() < self._available_until
            if fresh or (not wait and self._probing):
                return self._verdict
            if not wait and self._available_until > float("-inf"):  # the first answer is always a real probe
                self._probing = True
                threading.Thread(target=self._probe_now, name="toast-probe", daemon=True).start()
                return self._verdict
        return self._probe_now()

    def _probe_now(self) -> tuple[bool, str]:
        verdicts = [] if self._in_flatpak else probe_notification_service(self._runner)
        verdict = decide_availability(self._platform, self._in_flatpak, verdicts)
        with self._lock:
            self._verdict, self._available_until, self._probing = verdict, self._clock() + self._probe_ttl, False
        return verdict

    def notify(self, msg: OutgoingMessage) -> Delivery:
        """Show *msg* as a toast; buttons and reply_to are ignored.

        Raises ChannelError: transient when no notification service is reachable,
        the backend is slow or busy, or fails; permanent when plyer has no usable
        backend on this system.
        """
        if self._closed:
            raise ChannelError("toast channel is closed", permanent=False, kind="Closed")
        ok, reason = self.available()
        if not ok:
            raise ChannelError(f"unavailable: {reason}", permanent=False, kind=UNAVAILABLE)
        title, body = fit_toast(msg.title, msg.body)
        if not body:  # one alert without detail: a toast with no text is not shown (Windows), so say it there
            title, body = fit_toast(self._app_name, title)
        future = self._start(toast_arguments(
            title, body, app_name=self._app_name, icon=self._severity_icons.get(msg.severity, self._app_icon),
            seconds=self._display_seconds.get(msg.severity, DISPLAY_SECONDS[Severity.WARNING]),
            urgency=URGENCY.get(msg.severity, "normal")))
        try:
            future.result(timeout=self._wait_timeout)
        except concurrent.futures.TimeoutError:
            raise ChannelError(
                f"toast backend did not return within {self._wait_timeout:g}s",
                permanent=False,
                kind="Timeout",
            ) from None
        except NotImplementedError:  # plyer's answer when it has no notification backend on this system
            raise ChannelError(
                "plyer has no usable notification backend on this system",
                permanent=True,
                kind="NoBackend",
            ) from None
        except Exception as exc:  # noqa: BLE001 - any backend failure is a failed toast
            raise ChannelError(
                f"toast failed: {type(exc).__name__}: {exc}", permanent=False, kind="ToastFailed"
            ) from None
        return Delivery(channel_message_id=None)

    def _start(self, arguments: dict[str, Any]) -> concurrent.futures.Future[object]:
        with self._lock:
            if self._inflight is not None and not self._inflight.done():
                raise ChannelError("previous toast is still pending", permanent=False, kind="Busy")
            future: concurrent.futures.Future[object] = concurrent.futures.Future()
            self._inflight = future

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = self._notifier(**arguments)
            except BaseException as exc:  # noqa: BLE001 - hand everything to the caller
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="watchkeeper-toast", daemon=True).start()
        return future

    def close(self) -> None:
        """Refuse further toasts; an in-flight backend call is left to finish."""
        self._closed = True


@dataclass
class ToastSettings:
    """The [toast] config section."""

    enabled: bool = opt(True, "Show a desktop notification for each alert.")


def severity_icons() -> dict[str, str]:
    """The bundled toast icon of each severity that exists (absolute paths: notify-send and D-Bus
    take a path, not a name)."""
    paths = {severity: asset_path(severity_icon_name(severity)) for severity in Severity}
    return {severity: str(path) for severity, path in paths.items() if path.exists()}


def _build(config: Config, context: BuildContext) -> ToastChannel:
    if IS_WINDOWS:  # the balloon shows the application's .ico whatever the severity
        icon = asset_path("watchkeeper.ico")
        return ToastChannel(str(icon) if icon.exists() else None)
    return ToastChannel(None, severity_icons=severity_icons())


def _probe(config: Config) -> tuple[bool, str]:
    """Whether a toast can be shown here (a fresh probe: the D-Bus notification service on Linux)."""
    return ToastChannel().available()


SPEC = ChannelSpec(
    name="toast",
    title="Desktop toast",
    enabled=lambda config: config.section(ToastSettings).enabled,
    build=_build,
    limits=ChannelLimits(title_max=TITLE_MAX, body_max=BODY_MAX, parts=1),
    skipped_kinds=frozenset({NotificationKind.WEEKLY}),  # the weekly digest is a long read: Telegram only
    settings=ToastSettings,
    probe=_probe,
    reach="desk",
)
"""The desktop toast: one part, cut to the Windows balloon limits, no buttons."""
