"""Toast channel: text fitting, the Linux availability decision, non-blocking calls."""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.assets import severity_icon_name
from engine.channels.base import ChannelError, OutgoingMessage
from engine.channels.toast import (
    BODY_MAX,
    DBUS_SEND_PROBE,
    ELLIPSIS,
    GDBUS_PROBE,
    TITLE_MAX,
    ToastChannel,
    decide_availability,
    fit_toast,
    interpret_probe,
    probe_notification_service,
    severity_icons,
)
from tests.helpers import cli, wait_until

SERVICE_UNKNOWN = (
    "Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: "
    "The name org.freedesktop.Notifications was not provided by any .service files"
)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- fit_toast


def test_fit_toast_keeps_short_text() -> None:
    assert fit_toast("Disk full", "C: 98%") == ("Disk full", "C: 98%")


def test_fit_toast_truncates_with_ellipsis() -> None:
    title, body = fit_toast("T" * 200, "B" * 1000)
    assert units(title) == TITLE_MAX <= 64 and title.endswith(ELLIPSIS)
    assert units(body) == BODY_MAX <= 256 and body.endswith(ELLIPSIS)


def test_fit_toast_exact_limits_untouched() -> None:
    title, body = fit_toast("T" * TITLE_MAX, "B" * BODY_MAX)
    assert title == "T" * TITLE_MAX and body == "B" * BODY_MAX


def test_fit_toast_counts_utf16_units_and_keeps_surrogate_pairs_whole() -> None:
    title, body = fit_toast("🔥" * 40, "🔥" * 200)
    assert units(title) <= TITLE_MAX and units(body) <= BODY_MAX
    assert set(title[:-1]) == {"🔥"} and set(body[:-1]) == {"🔥"}


def test_fit_toast_single_line_title_and_no_nul() -> None:
    title, body = fit_toast("a\nb\tc", "x\x00y")
    assert title == "a b c"
    assert body == "xy"


# ---------------------------------------------------------------- decision logic


def test_interpret_probe() -> None:
    assert interpret_probe(0, "('dunst', 'knopwob', '1.9.0', '1.2')") is True
    assert interpret_probe(1, SERVICE_UNKNOWN) is False
    assert interpret_probe(None, "") is None


@pytest.mark.parametrize(
    ("platform", "flatpak", "verdicts", "expected"),
    [
        ("win32", False, [], True),
        ("darwin", False, [(False, "x")], True),
        ("linux", True, [(False, "x")], True),
        ("linux", False, [(True, "ok")], True),
        ("linux", False, [(False, SERVICE_UNKNOWN)], False),
        ("linux", False, [(None, "gdbus missing"), (False, "no")], False),
        ("linux", False, [(None, "gdbus missing"), (None, "dbus-send missing")], True),
    ],
)
def test_decide_availability(
    platform: str, flatpak: bool, verdicts: list[tuple[bool | None, str]], expected: bool
) -> None:
    ok, reason = decide_availability(platform, flatpak, verdicts)
    assert ok is expected
    assert reason


class FakeRunner:
    """Scripted runner: argv[0] -> (returncode, output), or FileNotFoundError if absent."""

    def __init__(self, results: dict[str, tuple[int, str]]) -> None:
        self.results = results
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        self.calls.append(tuple(argv))
        if argv[0] not in self.results:
            raise FileNotFoundError(argv[0])
        return self.results[argv[0]]


def test_probe_uses_gdbus_first() -> None:
    runner = FakeRunner({"gdbus": (0, "('x',)"), "dbus-send": (1, "")})
    assert probe_notification_service(runner) == [(True, "('x',)")]
    assert runner.calls == [GDBUS_PROBE]


def test_probe_falls_back_to_dbus_send() -> None:
    runner = FakeRunner({"dbus-send": (1, "Error org.freedesktop.DBus.Error.ServiceUnknown")})
    verdicts = probe_notification_service(runner)
    assert [v for v, _ in verdicts] == [None, False]
    assert runner.calls == [GDBUS_PROBE, DBUS_SEND_PROBE]


# ---------------------------------------------------------------- ToastChannel


class RecordingNotifier:
    def __init__(self, exc: BaseException | None = None, block: threading.Event | None = None):
        self.calls: list[dict[str, Any]] = []
        self.exc = exc
        self.block = block

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.block is not None:
            self.block.wait(10)
        if self.exc is not None:
            raise self.exc


def msg(title: str = "Disk full", body: str = "C: is 98% full") -> OutgoingMessage:
    return OutgoingMessage(title=title, body=body, severity="warning")


def test_notify_calls_plyer_with_fitted_text_and_app_identity() -> None:
    notifier = RecordingNotifier()
    channel = ToastChannel("C:/wk/watchkeeper.ico", notifier=notifier, platform="win32")
    delivery = channel.notify(msg(title="X" * 100))
    assert delivery.channel_message_id is None
    (call,) = notifier.calls
    assert call["app_name"] == "Watchkeeper"
    assert call["app_icon"] == "C:/wk/watchkeeper.ico"
    assert units(call["title"]) == TITLE_MAX
    assert call["message"] == "C: is 98% full"


def test_linux_without_notification_service_is_transient_error() -> None:
    notifier = RecordingNotifier()
    runner = FakeRunner({"gdbus": (1, SERVICE_UNKNOWN)})
    channel = ToastChannel(notifier=notifier, runner=runner, platform="linux", in_flatpak=False)
    with pytest.raises(ChannelError) as info:
        channel.notify(msg())
    assert info.value.permanent is False
    assert info.value.kind == "Unavailable" and str(info.value).startswith("unavailable: ")
    assert notifier.calls == []


def test_linux_positive_probe_is_cached() -> None:
    now = [100.0]
    runner = FakeRunner({"gdbus": (0, "('dunst',)")})
    channel = ToastChannel(
        notifier=RecordingNotifier(),
        runner=runner,
        platform="linux",
        in_flatpak=False,
        probe_ttl=30.0,
        clock=lambda: now[0],
    )
    channel.notify(msg())
    channel.notify(msg())
    assert len(runner.calls) == 1
    now[0] += 31
    channel.notify(msg())
    assert len(runner.calls) == 2


def test_linux_negative_probe_is_cached_too_and_probed_again_after_the_ttl() -> None:
    now = [100.0]
    runner = FakeRunner({"gdbus": (1, SERVICE_UNKNOWN)})
    channel = ToastChannel(notifier=RecordingNotifier(), runner=runner, platform="linux", in_flatpak=False,
                           probe_ttl=30.0, clock=lambda: now[0])
    assert channel.available()[0] is False
    assert channel.available()[0] is False  # status and the tray ask often: no D-Bus call each time
    assert len(runner.calls) == 1
    now[0] += 31
    runner.results["gdbus"] = (0, "('dunst',)")
    assert channel.available() == (True, "notification service answered")
    assert len(runner.calls) == 2


def test_status_never_waits_for_a_re_probe_of_a_hung_session_bus() -> None:
    release = threading.Event()
    hung = threading.Event()

    class HungBus(FakeRunner):
        def __call__(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
            if hung.is_set():
                release.wait(30)  # a session bus whose daemon does not answer
            return super().__call__(argv, timeout)

    now = [100.0]
    runner = HungBus({"gdbus": (0, "('dunst',)")})
    channel = ToastChannel(notifier=RecordingNotifier(), runner=runner, platform="linux", in_flatpak=False,
                           probe_ttl=30.0, clock=lambda: now[0])
    assert channel.available(wait=False) == (True, "notification service answered")  # the first: a real probe
    now[0] += 31
    hung.set()
    runner.results["gdbus"] = (1, SERVICE_UNKNOWN)
    answer = concurrent.futures.ThreadPoolExecutor(1).submit(channel.available, wait=False)
    assert answer.result(timeout=5)[0] is True  # the last answer at once, re-probed aside
    assert channel.available(wait=False)[0] is True  # one probe in flight, not one per ask
    release.set()
    wait_until(lambda: channel.available(wait=False)[0] is False, timeout=10, message="the background probe")
    assert len(runner.calls) == 2


def test_non_linux_never_probes() -> None:
    runner = FakeRunner({})
    ToastChannel(notifier=RecordingNotifier(), runner=runner, platform="win32").notify(msg())
    assert runner.calls == []


def test_slow_backend_returns_quickly_and_refuses_to_pile_up() -> None:
    release = threading.Event()
    notifier = RecordingNotifier(block=release)
    channel = ToastChannel(notifier=notifier, platform="win32", wait_timeout=0.2)
    try:
        with pytest.raises(ChannelError) as first:
            channel.notify(msg())
        assert first.value.kind == "Timeout" and first.value.permanent is False
        with pytest.raises(ChannelError) as second:
            channel.notify(msg())
        assert second.value.kind == "Busy"
        assert len(notifier.calls) == 1
    finally:
        release.set()


def test_missing_backend_is_permanent_and_other_failures_transient() -> None:
    missing = ToastChannel(
        notifier=RecordingNotifier(NotImplementedError("No usable implementation found!")),
        platform="win32",
    )
    with pytest.raises(ChannelError) as info:
        missing.notify(msg())
    assert info.value.permanent is True

    broken = ToastChannel(
        notifier=RecordingNotifier(OSError("Shell_NotifyIconW failed")), platform="win32"
    )
    with pytest.raises(ChannelError) as info2:
        broken.notify(msg())
    assert info2.value.permanent is False
    assert "Shell_NotifyIconW" in str(info2.value)


def test_closed_channel_refuses() -> None:
    channel = ToastChannel(notifier=RecordingNotifier(), platform="win32")
    channel.close()
    with pytest.raises(ChannelError):
        channel.notify(msg())


# ---------------------------------------------------------------- the real Linux path (plyer's notify-send backend)


def _fake_tools(bin_dir: Path, record: Path) -> None:
    """``notify-send`` recording its argv (one JSON list a line) and a ``gdbus`` whose probe succeeds."""
    bin_dir.mkdir()
    notify = bin_dir / "notify-send"
    notify.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"with open({str(record)!r}, 'a') as f:\n    f.write(json.dumps(sys.argv[1:]) + '\\n')\n")
    gdbus = bin_dir / "gdbus"
    gdbus.write_text("#!/bin/sh\necho \"('fake', 'watchkeeper-tests', '1.0', '1.2')\"\n")
    for tool in (notify, gdbus):
        tool.chmod(0o755)


def _option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="plyer's Linux backends")
def test_linux_toast_passes_a_severity_icon_path_and_a_finite_expiry_to_notify_send(tmp_path: Path) -> None:
    record = tmp_path / "notify-send.jsonl"
    _fake_tools(tmp_path / "bin", record)
    env = {"WATCHKEEPER_HOME": str(tmp_path / "home"), "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    cli("demo", env=env, check=True)
    cli("check", "run", "stale_applications", env=env, check=True)
    calls = [json.loads(line) for line in wait_until(lambda: record.read_text().splitlines() if record.exists()
                                                     else None, message="a notify-send call")]
    argv = calls[0]
    icon = _option(argv, "-i")
    assert Path(icon).is_file() and Path(icon).name == severity_icon_name("warning")
    assert Path(icon).name != "watchkeeper-ok.png"
    assert 0 < int(_option(argv, "-t")) <= 60_000  # milliseconds: the toast expires
    assert _option(argv, "-u") == "normal" and _option(argv, "-a") == "Watchkeeper"


def test_each_severity_has_its_own_bundled_icon_and_a_finite_display_time() -> None:
    icons = severity_icons()
    assert set(icons) == {"info", "warning", "critical"}
    assert len({Path(p).read_bytes() for p in icons.values()}) == 3
    channel_calls = RecordingNotifier()
    channel = ToastChannel(None, severity_icons=icons, notifier=channel_calls, platform="darwin")
    for severity in ("info", "warning", "critical"):
        channel.notify(OutgoingMessage(title="t", body="b", severity=severity))
    for call, severity in zip(channel_calls.calls, ("info", "warning", "critical"), strict=True):
        assert call["app_icon"] == call["icon"] == icons[severity]
        assert 0 < call["timeout"] <= 60 and call["expire_time"] == str(call["timeout"] * 1000)
