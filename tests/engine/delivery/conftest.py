"""Delivery fixtures: a real fake Bot API server on 127.0.0.1 and a recording toast notifier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery_helpers import TOKEN, RecordingNotifier
from tests.fakes.telegram_api import FakeTelegramServer


@pytest.fixture
def fake() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer(token=TOKEN).start()
    yield server
    server.close()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()
