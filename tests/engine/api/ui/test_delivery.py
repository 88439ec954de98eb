"""The Delivery page and its "Send test" action (in process; Telegram on the fake Bot API)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from engine.engine import Engine
from engine.units import UNITS
from tests.delivery_helpers import CHAT, TOKEN
from tests.engine.actions import dashboard_rows
from tests.engine.api.conftest import engine_config
from tests.engine.api.ui.conftest import WRITE_HEADERS
from tests.fakes.telegram_api import FakeTelegramServer, Fault


@pytest.fixture
def fake() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer(token=TOKEN).start()
    yield server
    server.close()


@pytest.fixture
def engine(wk_home, fake) -> Iterator[Engine]:
    """The started Engine with Telegram on the fake Bot API (toast disabled)."""
    config = engine_config(telegram={"token": TOKEN, "chat_id": str(CHAT), "api_url": fake.base_url,
                                     "timeout_seconds": 2.0})
    eng = Engine(wk_home, config, UNITS)
    eng.start()
    yield eng
    eng.stop("test")


def channel_row(page: str, name: str) -> str:
    found = re.search(rf'<tr id="channel-{name}".*?</tr>', page, re.S)
    assert found, f"no row for {name}"
    return found.group(0)


def test_the_page_shows_each_channel_state_in_words_and_the_test_button_for_enabled_ones(visitor, login):
    login(visitor)
    answer = visitor.get("/ui/delivery")
    assert answer.status_code == 200
    page = answer.text
    toast = channel_row(page, "toast")
    assert '<span class="state-word">Disabled</span>' in toast and "Send test" not in toast
    telegram = channel_row(page, "telegram")
    assert '<span class="state-word">OK</span>' in telegram
    assert 'hx-post="/ui/delivery/telegram/test"' in telegram and ">Send test</button>" in telegram
    for heading in ("Channels", "Outbox", "Recent failures"):
        assert f">{heading}</h2>" in page
    assert TOKEN not in page


def test_the_outbox_is_counted_per_channel_and_failed_rows_are_listed_with_their_error(visitor, login, engine):
    from engine.store.db import connection

    now = engine.now()
    with connection(engine.db):
        a = dashboard_rows.alert(engine.db, "disk", "/", now, "open")
        first = dashboard_rows.notification(engine.db, "disk", [a], now)
        second = dashboard_rows.notification(engine.db, "disk", [a], now)
        dashboard_rows.outbox(engine.db, first, "telegram", now, "failed", attempts=4, error="HTTP 400: chat not found")
        dashboard_rows.outbox(engine.db, second, "telegram", now, "collapsed", attempts=0)
    login(visitor)
    page = visitor.get("/ui/delivery").text
    outbox = re.search(r'<table class="outbox">.*?</table>', page, re.S).group(0)
    row = re.search(r'<tr data-channel="telegram">.*?</tr>', outbox, re.S).group(0)
    assert '<td class="number" data-state="failed">1</td>' in row
    assert '<td class="number" data-state="collapsed">1</td>' in row
    failed = re.search(r'<table class="failed">.*?</table>', page, re.S).group(0)
    assert "HTTP 400: chat not found" in failed and '<td class="number">4</td>' in failed


def test_send_test_reaches_the_bot_api_and_answers_the_row_saying_so(visitor, login, fake):
    login(visitor)
    answer = visitor.post("/ui/delivery/telegram/test", headers=WRITE_HEADERS)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<tr id="channel-telegram"')
    assert "Test message sent through telegram." in answer.text
    assert len(fake.messages) == 1 and str(fake.messages[0].chat_id) == str(CHAT)


def test_a_failed_test_shows_the_channel_error_without_the_token(visitor, login, fake):
    fake.add_fault("sendMessage", Fault.forbidden())
    login(visitor)
    answer = visitor.post("/ui/delivery/telegram/test", headers=WRITE_HEADERS)
    assert answer.status_code == 200
    assert re.search(r'<p class="refusal" role="alert">telegram: [^<]+</p>', answer.text)
    assert TOKEN not in answer.text and fake.messages == []


def test_send_test_to_a_disabled_or_unknown_channel_names_the_enabled_ones(visitor, login):
    login(visitor)
    disabled = visitor.post("/ui/delivery/toast/test", headers=WRITE_HEADERS).text
    assert "no enabled channel named &#39;toast&#39;; enabled: telegram" in disabled
    unknown = visitor.post("/ui/delivery/pigeon/test", headers=WRITE_HEADERS).text
    assert '<tr id="channel-pigeon"' in unknown and "no enabled channel named &#39;pigeon&#39;" in unknown


def test_send_test_from_a_foreign_origin_is_refused_and_sends_nothing(visitor, login, fake):
    login(visitor)
    answer = visitor.post("/ui/delivery/telegram/test", headers={"Origin": "http://localhost:1", "X-WK-UI": "1"})
    assert answer.status_code == 403 and fake.messages == []
