"""Chat fixtures: a real fake Bot API server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery_helpers import TOKEN
from tests.fakes.telegram_api import FakeTelegramServer


@pytest.fixture
def fake() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer(token=TOKEN).start()
    yield server
    server.close()
