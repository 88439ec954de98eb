"""A config error at start reaches the user of the windowed build (no console) on screen; the
decision is tested here with injected leaves, the message box and notification leaves with fakes."""

from __future__ import annotations

from engine.platform import posix, windows
from engine.process import frozen
from engine.process.runner import report_start_error


def test_windowed_build_shows_the_start_error_and_names_the_log_file(wk_home):
    shown: list[tuple[str, str]] = []
    report_start_error(wk_home, "config error: heartbeat.interval_seconds = 0 is not allowed", windowed=True,
                       show=lambda title, text: shown.append((title, text)))
    assert shown == [("Watchkeeper cannot start", "config error: heartbeat.interval_seconds = 0 is not allowed"
                      f"\n\nDetails are in {wk_home.log_file}.")]
    assert "cannot start: config error: heartbeat.interval_seconds = 0" in wk_home.log_file.read_text()


def test_a_build_with_a_console_only_logs_the_start_error(wk_home):
    shown: list[tuple[str, str]] = []
    report_start_error(wk_home, "config error: x", windowed=False, show=lambda *a: shown.append(a))
    assert shown == []
    assert "cannot start: config error: x" in wk_home.log_file.read_text()


def test_without_a_console_the_error_is_shown(wk_home, monkeypatch):
    monkeypatch.setattr(frozen, "_no_console", False)
    shown: list[tuple[str, str]] = []
    report_start_error(wk_home, "first", show=lambda *a: shown.append(a))
    frozen.mark_no_console()
    report_start_error(wk_home, "second", show=lambda *a: shown.append(a))
    assert [text.split("\n")[0] for _, text in shown] == ["second"]


def test_a_failing_display_leaf_does_not_hide_the_logged_error(wk_home):
    def broken(title: str, text: str) -> None:
        raise OSError("no display")

    report_start_error(wk_home, "config error: y", windowed=True, show=broken)
    assert "cannot start: config error: y" in wk_home.log_file.read_text()


def test_windows_leaf_shows_a_modal_error_message_box():
    class User32:
        calls: list[tuple] = []

        def MessageBoxW(self, *args):  # noqa: N802 - the Win32 name
            self.calls.append(args)
            return 1

    user32 = User32()
    windows.show_error("Watchkeeper cannot start", "bad config", user32=user32)
    assert user32.calls == [(None, "bad config", "Watchkeeper cannot start", 0x10 | 0x10000)]


def test_posix_leaf_sends_a_critical_desktop_notification(monkeypatch):
    monkeypatch.setattr(posix.sys, "platform", "linux")
    runs: list[list[str]] = []
    posix.show_error("Watchkeeper cannot start", "bad config",
                     run=lambda args, timeout: runs.append(args) or (0, "", ""))
    assert runs == [["notify-send", "--urgency=critical", "--app-name=Watchkeeper", "Watchkeeper cannot start",
                     "bad config"]]
