"""The fake Bot API server itself: protocol details, long poll, faults, standalone mode."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.telegram_api import FakeTelegramServer, Fault

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer(token=TOKEN).start()
    yield server
    server.close()


def call(base_url: str, method: str, timeout: float = 5.0, **params: Any) -> httpx.Response:
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return httpx.post(f"{base_url}{TOKEN}/{method}", data=form, timeout=timeout)


def test_send_message_is_stored_and_recorded(fake: FakeTelegramServer) -> None:
    markup = {"inline_keyboard": [[{"text": "Ack", "callback_data": "ack:1"}]]}
    response = call(
        fake.base_url,
        "sendMessage",
        chat_id=42,
        text="<b>hi</b> &amp; bye",
        parse_mode="HTML",
        disable_notification=True,
        reply_markup=markup,
        reply_parameters={"message_id": 3, "allow_sending_without_reply": True},
    )
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True
    (stored,) = fake.messages
    assert stored.message_id == body["result"]["message_id"]
    assert (stored.chat_id, stored.reply_to, stored.disable_notification) == (42, 3, True)
    assert stored.buttons == [("Ack", "ack:1")]
    (request,) = fake.requests
    assert request.method == "sendMessage" and request.params["chat_id"] == 42


def test_malformed_html_and_too_long_text_are_rejected(fake: FakeTelegramServer) -> None:
    bad = call(fake.base_url, "sendMessage", chat_id=42, text="a < b", parse_mode="HTML")
    assert bad.status_code == 400 and "parse entities" in bad.json()["description"]
    long = call(fake.base_url, "sendMessage", chat_id=42, text="x" * 4097)
    assert long.status_code == 400 and "too long" in long.json()["description"]
    ok = call(fake.base_url, "sendMessage", chat_id=42, text="&lt;" * 4096, parse_mode="HTML")
    assert ok.status_code == 200  # 4096 characters after entity parsing


def test_wrong_token_gets_401(fake: FakeTelegramServer) -> None:
    response = httpx.post(f"{fake.base_url}999:nope/getMe", timeout=5)
    assert response.status_code == 401


def test_get_updates_long_poll_wakes_on_push_and_confirms_offset(
    fake: FakeTelegramServer,
) -> None:
    result: list[httpx.Response] = []
    poller = threading.Thread(
        target=lambda: result.append(
            httpx.post(f"{fake.base_url}{TOKEN}/getUpdates", data={"timeout": "5"}, timeout=10)
        )
    )
    started = time.monotonic()
    poller.start()
    fake.wait_for_requests("getUpdates", 1, 5)
    update_id = fake.push_command(42, "/status")
    poller.join(5)
    assert time.monotonic() - started < 4
    (update,) = result[0].json()["result"]
    assert update["update_id"] == update_id
    assert update["message"]["entities"][0]["type"] == "bot_command"
    again = httpx.post(
        f"{fake.base_url}{TOKEN}/getUpdates", data={"offset": str(update_id + 1)}, timeout=5
    )
    assert again.json()["result"] == []


def test_get_updates_honours_timeout(fake: FakeTelegramServer) -> None:
    started = time.monotonic()
    response = httpx.post(f"{fake.base_url}{TOKEN}/getUpdates", data={"timeout": "1"}, timeout=5)
    elapsed = time.monotonic() - started
    assert response.json()["result"] == []
    assert 0.9 <= elapsed < 3


def test_faults_are_consumed_in_order(fake: FakeTelegramServer) -> None:
    fake.add_fault("sendMessage", Fault.flood(2))
    fake.add_fault("sendMessage", Fault.forbidden())
    first = call(fake.base_url, "sendMessage", chat_id=1, text="a")
    second = call(fake.base_url, "sendMessage", chat_id=1, text="a")
    third = call(fake.base_url, "sendMessage", chat_id=1, text="a")
    assert first.status_code == 429 and first.json()["parameters"] == {"retry_after": 2}
    assert second.status_code == 403
    assert third.status_code == 200
    assert [r.fault for r in fake.requests] == [
        "429: Too Many Requests: retry after 2",
        "403: Forbidden: bot was blocked by the user",
        None,
    ]


def test_stop_refuses_connections_and_start_reuses_port(fake: FakeTelegramServer) -> None:
    port = fake.port
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{fake.base_url}{TOKEN}/getMe", timeout=2)
    fake.start()
    assert fake.port == port
    assert httpx.post(f"{fake.base_url}{TOKEN}/getMe", timeout=2).status_code == 200


def test_standalone_process_records_and_is_controllable(tmp_path: Path) -> None:
    record = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--record", str(record)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        base = ready["base_url"]
        root = base[: -len("/bot")]
        httpx.post(f"{root}/_fake/fault", json={"method": "sendMessage", "kind": "forbidden"})
        assert call(base, "sendMessage", chat_id=5, text="x").status_code == 403
        assert call(base, "sendMessage", chat_id=5, text="hello").status_code == 200
        pushed = httpx.post(f"{root}/_fake/push", json={"chat_id": 5, "text": "/status"}).json()
        updates = call(base, "getUpdates").json()["result"]
        assert updates[0]["update_id"] == pushed["update_id"]
        messages = httpx.get(f"{root}/_fake/messages").json()
        assert [m["text"] for m in messages] == ["hello"]
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["method"] for line in lines] == ["sendMessage", "sendMessage", "getUpdates"]
    assert lines[0]["fault"].startswith("403")
    assert TOKEN not in record.read_text()
