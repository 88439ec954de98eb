"""Delivery test helpers: the fake Bot API token/chat, a recording toast notifier."""

from __future__ import annotations

import threading
from typing import Any

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


def start_telegram_demo_engine(paths: Any, fake: Any, general: dict[str, Any] | None = None) -> Any:
    """A started Engine whose only channel is Telegram on ``fake``, with the demo data loaded
    (the machine checks off: their findings depend on the test machine); ``general`` is its
    [general] section."""
    from engine.demo import load_demo
    from engine.engine import Engine
    from engine.store.db import connection
    from engine.units import UNITS
    from tests.helpers import parse_config

    config = parse_config({
        "toast": {"enabled": False},
        "api": {"enabled": False},
        "telegram": {"token": TOKEN, "chat_id": str(CHAT), "api_url": fake.base_url, "timeout_seconds": 2.0},
        "checks": {name: {"enabled": False} for name in ("disk_space", "endpoint", "listening_ports")},
        **({"general": general} if general else {}),
    }, env={})
    engine = Engine(paths, config, UNITS)
    engine.start()
    with connection(engine.db):
        load_demo(engine.db, engine.now())
    return engine


def units_with_toast_service(notifier: RecordingNotifier | None = None) -> Any:
    """engine.units.UNITS whose toast channel sees a notification service (the D-Bus probe and the
    plyer call are the injected OS leaves), for in-process engines that need a channel that delivers."""
    import dataclasses

    from engine.units import UNITS

    shown = notifier or RecordingNotifier()
    specs = tuple(dataclasses.replace(spec, build=lambda config, context: toast_channel(shown),
                                      probe=lambda config: (True, "notification service answered"))
                  if spec.name == "toast" else spec for spec in UNITS.channels)
    return dataclasses.replace(UNITS, channels=specs)
