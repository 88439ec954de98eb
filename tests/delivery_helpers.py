"""Delivery test helpers: the fake Bot API token/chat, a recording toast notifier."""

from __future__ import annotations

import threading

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
CHAT = 42


class RecordingNotifier:
    """Stands in for plyer's notify (an OS leaf): records every toast shown."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.event = threading.Event()

    def __call__(self, *, title: str, message: str, **kwargs: object) -> None:
        self.shown.append((title, message))
        self.event.set()


def toast_channel(notifier: RecordingNotifier):
    """A real ToastChannel whose OS leaves (plyer call, D-Bus probe) are injected."""
    from engine.channels.toast import ToastChannel

    return ToastChannel(notifier=notifier, runner=lambda argv, timeout: (0, "('notification-daemon', 'x', '1', '1.2')"),
                        platform="linux", in_flatpak=False)
