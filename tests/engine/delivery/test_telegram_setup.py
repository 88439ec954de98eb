"""`telegram setup` and `telegram test` against the fake Bot API, as a user runs them."""

from __future__ import annotations

import sqlite3
import threading
import tomllib

from tests.delivery_helpers import TOKEN
from tests.helpers import cli


def _onboarding(wk_home) -> dict[str, str]:
    with sqlite3.connect(wk_home.db_file) as conn:
        return dict(conn.execute("SELECT key, value FROM onboarding_state").fetchall())


def test_setup_verifies_discovers_stores_and_resumes(wk_home, fake, monkeypatch):
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_API_URL", fake.base_url)
    wk_home.config_file.unlink()  # a new user: setup starts from the commented template
    first = cli("telegram", "setup", "--token", TOKEN, "--wait", "1")
    assert first.returncode == 1 and "resumes here" in first.stderr
    assert "give each machine its own bot" in first.stdout  # a shared bot answers commands on one machine
    assert "telegram.token_verified" in _onboarding(wk_home)
    assert TOKEN not in first.stdout + first.stderr
    # The second run resumes: the user sends /start while it waits.
    timer = threading.Timer(1.0, lambda: fake.push_command(777, "/start"))
    timer.start()
    second = cli("telegram", "setup", "--wait", "20")  # token now comes from the config file
    timer.join()
    assert second.returncode == 0, second.stderr
    assert "found chat 777" in second.stdout and TOKEN not in second.stdout
    text = wk_home.config_file.read_text()  # holds the token: never let an assertion print it
    stored_chat = tomllib.loads(text)["telegram"]["chat_id"]
    comments_kept = "# interval_seconds = 60" in text
    assert stored_chat == "777"
    assert comments_kept
    assert _onboarding(wk_home)["telegram.chat_id"] == "777"
    assert any("connected" in m.text for m in fake.messages if str(m.chat_id) == "777")
    test = cli("telegram", "test")
    assert test.returncode == 0 and "Test message sent" in test.stdout


def test_bad_token_is_a_clear_permanent_error(wk_home, fake, monkeypatch):
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_API_URL", fake.base_url)
    result = cli("telegram", "setup", "--token", "999:WRONG-TOKEN-abcdefghijklmnopqrstuvw", "--wait", "1")
    assert result.returncode == 2 and "Telegram setup failed" in result.stderr
    assert "WRONG-TOKEN" not in result.stderr


def test_telegram_test_without_configuration_says_what_to_do(wk_home):
    result = cli("telegram", "test")
    assert result.returncode == 2 and "telegram setup" in result.stderr
