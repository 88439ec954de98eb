"""The Delivery page in a real browser, against an instance whose Telegram talks to the fake Bot API:
the channels' states in words (toast disabled, telegram ok), "Send test" reaches the fake and the row
says so; axe finds nothing serious in light or dark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery_helpers import CHAT, TOKEN
from tests.fakes.telegram_api import FakeTelegramServer
from tests.helpers import wait_until
from tests.ui.conftest import Dashboard, axe_violations


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer(token=TOKEN).start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def dashboard_config(fake: FakeTelegramServer) -> str:
    quiet = "".join(f"[checks.{name}]\nenabled = false\n\n" for name in ("disk_space", "endpoint", "listening_ports"))
    return quiet + (f'[telegram]\ntoken = "{TOKEN}"\nchat_id = "{CHAT}"\napi_url = "{fake.base_url}"\n'
            "timeout_seconds = 2.0\n")


def open_delivery(dashboard: Dashboard) -> object:
    page = dashboard.page
    page.goto(dashboard.instance.url("/ui/delivery"))
    return page


def test_the_channels_show_their_state_in_words(dashboard: Dashboard):
    page = open_delivery(dashboard)
    toast, telegram = page.locator("#channel-toast"), page.locator("#channel-telegram")
    assert toast.locator(".state-word").inner_text() == "Disabled"
    assert toast.get_by_role("button", name="Send test").count() == 0
    assert telegram.locator(".state-word").inner_text() == "OK"
    assert TOKEN not in page.content()


def test_an_alert_sent_through_telegram_is_counted_in_the_outbox_and_listed_on_its_alert(dashboard: Dashboard,
                                                                                      fake: FakeTelegramServer):
    instance = dashboard.instance
    assert instance.cli("demo").returncode == 0
    assert instance.cli("check", "run", "--all").returncode == 0
    wait_until(lambda: fake.messages, timeout=30, message="the alert at the fake Bot API")
    page = dashboard.page

    def sent() -> int:
        page.goto(instance.url("/ui/delivery"))
        return int(page.locator('table.outbox tr[data-channel="telegram"] td[data-state="sent"]').inner_text())

    wait_until(lambda: sent() >= 1, timeout=30, message="a sent row of telegram in the outbox")

    def deliveries() -> str:
        page.goto(instance.url("/ui/alerts"))
        return " | ".join(page.locator("table.alerts .deliveries").all_inner_texts())

    wait_until(lambda: "telegram: sent" in deliveries(), timeout=30, message="an alert delivered through telegram")


def test_send_test_reaches_the_bot_api_and_the_row_says_so(dashboard: Dashboard, fake: FakeTelegramServer):
    page = open_delivery(dashboard)
    page.locator("#channel-telegram").get_by_role("button", name="Send test").click()
    page.locator("#channel-telegram [role=status]", has_text="Test message sent through telegram.").wait_for()
    tests = wait_until(lambda: [m for m in fake.messages if "Watchkeeper test message" in m.text], timeout=10,
                       message="the test message at the fake")
    assert len(tests) == 1 and str(tests[0].chat_id) == str(CHAT)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(dashboard: Dashboard, scheme: str):
    page = dashboard.new_page(color_scheme=scheme, bypass_csp=True)
    page.goto(dashboard.instance.url("/ui/delivery"))
    page.screenshot(path=f"/tmp/wk-delivery-{scheme}.png", full_page=True)
    assert axe_violations(page) == []
