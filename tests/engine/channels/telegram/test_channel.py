"""TelegramChannel against the real fake Bot API server (PTB's base_url, no patching)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine.channels.base import Channel, ChannelError, OutgoingMessage
from engine.channels.telegram.channel import TelegramChannel, format_message
from tests.fakes.telegram_api import FakeTelegramServer, Fault

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
CHAT = 42
WAIT = 5.0

MakeChannel = Callable[..., TelegramChannel]


@pytest.fixture
def fake() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer().start()
    yield server
    server.close()


@pytest.fixture
def make_channel(fake: FakeTelegramServer) -> Iterator[MakeChannel]:
    channels: list[TelegramChannel] = []

    def make(**kwargs: Any) -> TelegramChannel:
        kwargs.setdefault("base_url", fake.base_url)
        kwargs.setdefault("timeout", 2.0)
        kwargs.setdefault("min_interval", 0.0)
        kwargs.setdefault("poll_timeout", 10)
        kwargs.setdefault("backoff_max", 0.5)
        channel = TelegramChannel(TOKEN, kwargs.pop("chat_id", CHAT), **kwargs)
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        channel.close()


def alert(**kwargs: Any) -> OutgoingMessage:
    base: dict[str, Any] = {"title": "Disk full", "body": "C: is 98% full", "severity": "warning"}
    base.update(kwargs)
    return OutgoingMessage(**base)


def assert_no_token(err: BaseException) -> None:
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err)


# ---------------------------------------------------------------- sending


def test_is_a_channel(make_channel: MakeChannel) -> None:
    assert isinstance(make_channel(), Channel)


def test_send_with_buttons_arrives_with_inline_keyboard(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    buttons = [("Ack", "ack:7"), ("Mute 1h", "mute:7:3600")]
    delivery = make_channel().notify(alert(severity="critical", buttons=buttons))
    stored = fake.message(delivery.channel_message_id or "0")
    assert stored is not None
    assert stored.chat_id == CHAT
    assert stored.buttons == buttons
    assert stored.parse_mode == "HTML"
    assert stored.disable_notification is False
    assert stored.text == "<b>Disk full</b>\nC: is 98% full"


def test_info_is_silent_warning_is_not(make_channel: MakeChannel, fake: FakeTelegramServer) -> None:
    channel = make_channel()
    channel.notify(alert(severity="info"))
    channel.notify(alert(severity="warning"))
    assert [m.disable_notification for m in fake.messages] == [True, False]


def test_html_is_escaped(make_channel: MakeChannel, fake: FakeTelegramServer) -> None:
    make_channel().notify(alert(title="<b>x</b> & y", body="if a < b && c > d: <script>"))
    (stored,) = fake.messages  # the fake rejects malformed HTML with 400
    assert stored.text == (
        "<b>&lt;b&gt;x&lt;/b&gt; &amp; y</b>\nif a &lt; b &amp;&amp; c &gt; d: &lt;script&gt;"
    )


def test_long_text_split_into_chunks_buttons_last_reply_first(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel()
    first = channel.notify(alert(body="original"))
    body = "\n".join(f"{i:04d} " + "é&" * 60 for i in range(150))
    delivery = channel.notify(
        alert(body=body, buttons=[("Ack", "ack:1")], reply_to=first.channel_message_id)
    )
    chunks = fake.messages[1:]
    assert len(chunks) >= 3
    assert all(len(m.text) <= 4096 for m in chunks)
    assert chunks[0].reply_to == int(first.channel_message_id or 0)
    assert all(m.reply_to is None for m in chunks[1:])
    assert [bool(m.buttons) for m in chunks] == [False] * (len(chunks) - 1) + [True]
    assert delivery.channel_message_id == str(chunks[-1].message_id)


def test_one_message_per_second_per_chat(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel(min_interval=1.0)
    for i in range(3):
        channel.notify(alert(title=f"n{i}"))
    times = [r.t for r in fake.requests_for("sendMessage")]
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps


def test_concurrent_senders_are_serialized_and_paced(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel(min_interval=0.3)
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            channel.notify(alert(title=f"t{i}"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not errors
    times = [r.t for r in fake.requests_for("sendMessage")]
    assert len(times) == 4
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.25


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("fault", "permanent", "kind"),
    [
        (Fault.server_error(500), False, "NetworkError"),
        (Fault.server_error(502), False, "NetworkError"),
        (Fault.forbidden(), True, "Forbidden"),
        (Fault.chat_not_found(), True, "BadRequest"),
        (Fault.unauthorized(), True, "InvalidToken"),
        (Fault.drop(), False, "NetworkError"),
    ],
)
def test_fault_maps_to_channel_error(
    make_channel: MakeChannel, fake: FakeTelegramServer, fault: Fault, permanent: bool, kind: str
) -> None:
    fake.add_fault("sendMessage", fault)
    with pytest.raises(ChannelError) as info:
        make_channel().notify(alert())
    assert info.value.permanent is permanent
    assert info.value.kind == kind
    assert info.value.retry_after is None
    assert_no_token(info.value)


def test_chat_not_found_message_is_actionable(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    fake.add_fault("sendMessage", Fault.chat_not_found())
    with pytest.raises(ChannelError) as info:
        make_channel().notify(alert())
    assert "chat not found" in str(info.value).lower()
    assert "/start" in str(info.value)


def test_retry_after_parsed_and_blocks_until_it_expires(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    now = [1000.0]
    channel = make_channel(clock=lambda: now[0])
    fake.add_fault("sendMessage", Fault.flood(2))
    with pytest.raises(ChannelError) as info:
        channel.notify(alert())
    assert info.value.permanent is False
    assert info.value.retry_after == 2.0
    assert info.value.kind == "RetryAfter"

    with pytest.raises(ChannelError) as blocked:  # fails fast, server not asked again
        channel.notify(alert())
    assert blocked.value.retry_after is not None and 0 < blocked.value.retry_after <= 2.0
    assert len(fake.requests_for("sendMessage")) == 1

    now[0] += 2.1
    assert channel.notify(alert()).channel_message_id is not None


def test_slow_server_times_out_as_transient(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    fake.add_fault("sendMessage", Fault.slow(3.0))
    channel = make_channel(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ChannelError) as info:
        channel.notify(alert())
    assert time.monotonic() - started < 2.5
    assert info.value.permanent is False
    assert info.value.kind == "TimedOut"


def test_connection_refused_is_transient_then_recovers_on_same_port(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel()
    channel.notify(alert())  # opens a keep-alive connection
    port = fake.port
    fake.stop()
    with pytest.raises(ChannelError) as info:
        channel.notify(alert())
    assert info.value.permanent is False
    assert_no_token(info.value)
    with pytest.raises(ChannelError) as refused:  # the listening socket is gone too
        channel.notify(alert())
    assert refused.value.permanent is False
    fake.start()
    assert fake.port == port
    assert channel.notify(alert()).channel_message_id is not None


def test_invalid_token_rejected_at_initialize_is_permanent_and_redacted(
    make_channel: MakeChannel, fake: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.add_fault("getMe", Fault.unauthorized())  # PTB re-raises with the token in the text
    with pytest.raises(ChannelError) as info:
        make_channel().notify(alert())
    assert info.value.permanent is True
    assert info.value.kind == "InvalidToken"
    assert_no_token(info.value)
    assert TOKEN not in caplog.text


def test_invalid_message_and_missing_chat_are_permanent_without_a_request(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    with pytest.raises(ChannelError) as info:
        make_channel().notify(alert(buttons=[("Ack", "x" * 65)]))
    assert info.value.permanent is True
    with pytest.raises(ChannelError) as missing:
        make_channel(chat_id=None).notify(alert())
    assert missing.value.permanent is True
    assert fake.requests_for("sendMessage") == []


def test_token_never_in_logs(
    make_channel: MakeChannel, fake: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # an earlier setup_logging in this process quietened it
    channel = make_channel(on_command=lambda c, a: "ok")
    channel.notify(alert())
    fake.add_fault("sendMessage", Fault.forbidden())
    with pytest.raises(ChannelError):
        channel.notify(alert())
    fake.add_fault("getUpdates", Fault.server_error(500))
    channel.start_polling()
    fake.push_command(999, "/status")
    fake.push_command(CHAT, "/status")
    assert fake.wait_for(lambda: any(m.text == "ok" for m in fake.messages), WAIT)
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log URLs
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- edit / answer / getMe


def test_edit_replaces_text_and_removes_buttons_idempotently(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel()
    delivery = channel.notify(alert(buttons=[("Ack", "ack:1")]))
    message_id = delivery.channel_message_id or ""
    channel.edit(message_id, "Acknowledged <by you>", title="Disk full")
    stored = fake.message(message_id)
    assert stored is not None
    assert stored.text == "<b>Disk full</b>\nAcknowledged &lt;by you&gt;"
    assert stored.buttons == []
    assert len(stored.edits) == 1
    channel.edit(message_id, "Acknowledged <by you>", title="Disk full")  # not modified: OK
    with pytest.raises(ChannelError) as info:
        channel.edit("999999", "x")
    assert info.value.permanent is True


def test_answer_callback_and_get_me(make_channel: MakeChannel, fake: FakeTelegramServer) -> None:
    channel = make_channel()
    channel.answer_callback("cb-1", "Muted for 1 h")
    assert fake.answers == {"cb-1": "Muted for 1 h"}
    me = channel.get_me()
    assert me.username == "watchkeeper_test_bot"


# ---------------------------------------------------------------- polling


def test_status_command_gets_a_reply(make_channel: MakeChannel, fake: FakeTelegramServer) -> None:
    calls: list[tuple[str, list[str]]] = []

    def on_command(command: str, args: list[str]) -> str:
        calls.append((command, args))
        return "All 3 checks OK <3"

    channel = make_channel(on_command=on_command)
    channel.start_polling()
    channel.start_polling()  # idempotent
    update_id = fake.push_command(CHAT, "/status verbose")
    assert fake.wait_for(lambda: len(fake.messages) == 1, WAIT)
    (reply,) = fake.messages
    assert reply.text == "All 3 checks OK &lt;3"
    assert reply.reply_to is not None
    assert calls == [("status", ["verbose"])]
    # The next poll confirms the update; it is never handed out again.
    polls = fake.wait_for_requests("getUpdates", 2, WAIT)
    assert polls[-1].params.get("offset") == update_id + 1


def test_callback_from_configured_chat_reaches_handler_and_is_answered(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    seen: list[tuple[str, str, str]] = []

    def on_callback(data: str, message_id: str, callback_id: str) -> str:
        seen.append((data, message_id, callback_id))
        return "Acknowledged"

    channel = make_channel(on_callback=on_callback)
    delivery = channel.notify(alert(buttons=[("Ack", "ack:7")]))
    channel.start_polling()
    callback_id = fake.push_callback(CHAT, delivery.channel_message_id or "0", "ack:7")
    assert fake.wait_for(lambda: callback_id in fake.answers, WAIT)
    assert fake.answers[callback_id] == "Acknowledged"
    assert seen == [("ack:7", delivery.channel_message_id, callback_id)]


def test_updates_from_other_chats_are_ignored(
    make_channel: MakeChannel, fake: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="engine.channels.telegram.channel")
    commands: list[str] = []
    callbacks: list[str] = []

    def on_command(command: str, args: list[str]) -> str:
        commands.append(command)
        return f"reply to {command}"

    def on_callback(data: str, message_id: str, callback_id: str) -> str:
        callbacks.append(data)
        return "ok"

    channel = make_channel(on_command=on_command, on_callback=on_callback)
    sent = channel.notify(alert(buttons=[("Ack", "ack:1")]))
    channel.start_polling()
    fake.push_command(999, "/mute all")
    stranger_cb = fake.push_callback(999, sent.channel_message_id or "0", "ack:1")
    fake.push_command(CHAT, "/ping")  # processed after the stranger's updates
    assert fake.wait_for(lambda: any(m.text == "reply to ping" for m in fake.messages), WAIT)
    assert commands == ["ping"]
    assert callbacks == []
    assert stranger_cb not in fake.answers
    assert all(str(m.chat_id) == str(CHAT) for m in fake.messages)
    assert "not the configured chat" in caplog.text


def test_command_for_another_bot_and_plain_text_are_ignored(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    commands: list[str] = []

    def on_command(command: str, args: list[str]) -> str:
        commands.append(command)
        return "done"

    channel = make_channel(on_command=on_command)
    channel.start_polling()
    fake.push_command(CHAT, "/status@some_other_bot")
    fake.push_text(CHAT, "hello there")
    fake.push_command(CHAT, "/help")
    assert fake.wait_for(lambda: len(fake.messages) == 1, WAIT)
    assert commands == ["help"]


def test_slow_handler_does_not_block_sending(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    entered, release = threading.Event(), threading.Event()

    def on_command(command: str, args: list[str]) -> str:
        entered.set()
        release.wait(WAIT)
        return "late reply"

    channel = make_channel(on_command=on_command)
    channel.start_polling()
    fake.push_command(CHAT, "/status")
    try:
        assert entered.wait(WAIT)
        channel.notify(alert(title="sent while the handler is busy"))
        assert fake.messages[0].text.startswith("<b>sent while")
    finally:
        release.set()
    assert fake.wait_for(lambda: len(fake.messages) == 2, WAIT)


def test_failing_handler_replies_error_and_polling_continues(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    def on_command(command: str, args: list[str]) -> str:
        if command == "boom":
            raise RuntimeError("engine exploded")
        return "fine"

    channel = make_channel(on_command=on_command)
    channel.start_polling()
    fake.push_command(CHAT, "/boom")
    fake.push_command(CHAT, "/status")
    assert fake.wait_for(lambda: len(fake.messages) == 2, WAIT)
    assert "failed" in fake.messages[0].text
    assert fake.messages[1].text == "fine"


def test_polling_survives_server_outage(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel(on_command=lambda c, a: "back")
    channel.start_polling()
    fake.wait_for_requests("getUpdates", 1, WAIT)
    fake.stop()
    fake.start()
    fake.push_command(CHAT, "/status")
    assert fake.wait_for(lambda: any(m.text == "back" for m in fake.messages), WAIT)


def test_polling_backs_off_on_errors(make_channel: MakeChannel, fake: FakeTelegramServer) -> None:
    channel = make_channel(backoff_max=1.0)
    fake.add_fault("getUpdates", Fault.server_error(500), times=3)
    channel.start_polling()
    polls = fake.wait_for_requests("getUpdates", 4, WAIT)
    gaps = [b.t - a.t for a, b in zip(polls, polls[1:], strict=False)][:3]
    assert 0.4 <= gaps[0] < 0.9  # initial back-off 0.5 s
    assert 0.9 <= gaps[1] < 1.5  # doubled
    assert 0.9 <= gaps[2] < 1.5  # capped at backoff_max


def test_close_is_bounded_while_long_polling(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel(poll_timeout=25)
    channel.start_polling()
    fake.wait_for_requests("getUpdates", 1, WAIT)
    started = time.monotonic()
    channel.close()
    assert time.monotonic() - started < 3.0
    assert not channel._thread.is_alive()
    channel.close()  # idempotent
    with pytest.raises(ChannelError) as info:
        channel.notify(alert())
    assert info.value.permanent is False


# ---------------------------------------------------------------- setup flow


def test_discover_chat_id_returns_first_start_chat(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    channel = make_channel(chat_id=None)
    fake.push_text(7, "hello")
    fake.push_command(555, "/start")
    fake.push_command(666, "/start")
    assert channel.discover_chat_id(timeout=WAIT) == 555


def test_the_start_setup_consumed_is_not_answered_by_the_running_instance(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    setup = make_channel(chat_id=None)
    fake.push_command(555, "/start")
    assert setup.discover_chat_id(timeout=WAIT) == 555
    setup.close()
    commands: list[str] = []

    def on_command(command: str, args: list[str]) -> str:
        commands.append(command)
        return f"reply to /{command}"

    running = make_channel(chat_id=555, on_command=on_command)
    running.start_polling()
    fake.push_command(555, "/status")
    assert fake.wait_for(lambda: any(m.text == "reply to /status" for m in fake.messages), WAIT)
    assert commands == ["status"]  # the setup's /start was confirmed, not handed out again


def test_set_commands_sets_the_menu_once(make_channel: MakeChannel, fake: FakeTelegramServer) -> None:
    channel = make_channel()
    menu = [("status", "health"), ("ack", "acknowledge an alert: /ack 12")]
    assert channel.set_commands(menu) is True
    assert fake.commands == [{"command": "status", "description": "health"},
                             {"command": "ack", "description": "acknowledge an alert: /ack 12"}]
    assert channel.set_commands(menu) is False  # already the menu: not set again
    assert len(fake.requests_for("setMyCommands")) == 1


def test_discover_chat_id_times_out(make_channel: MakeChannel) -> None:
    channel = make_channel(chat_id=None)
    started = time.monotonic()
    assert channel.discover_chat_id(timeout=1.0) is None
    assert time.monotonic() - started < 3.5


def test_discover_refused_while_polling(make_channel: MakeChannel) -> None:
    channel = make_channel()
    channel.start_polling()
    with pytest.raises(RuntimeError):
        channel.discover_chat_id(timeout=1.0)


# ---------------------------------------------------------------- flood control, shared tokens


def test_partial_send_reports_progress_and_resume_sends_only_the_rest(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    now = [1000.0]
    channel = make_channel(clock=lambda: now[0])
    body = "\n".join(f"{i:04d} " + "z" * 95 for i in range(250))  # 7 parts
    msg = alert(body=body, buttons=[("Ack", "ack:1")])
    chunks = format_message(msg)
    assert len(chunks) == 7
    fake.flood_every(3, retry_after=1)
    with pytest.raises(ChannelError) as first:
        channel.notify(msg)
    assert first.value.parts_sent == 3
    assert first.value.first_message_id == str(fake.messages[0].message_id)
    now[0] += 1.1
    with pytest.raises(ChannelError) as second:
        channel.notify(dataclasses.replace(msg, resume_from=first.value.parts_sent))
    assert second.value.parts_sent == 6 and second.value.first_message_id is None
    now[0] += 1.1
    delivery = channel.notify(dataclasses.replace(msg, resume_from=6))
    assert delivery.parts_sent == 7
    assert [m.text for m in fake.messages] == chunks
    assert [bool(m.buttons) for m in fake.messages] == [False] * 6 + [True]
    assert delivery.channel_message_id == str(fake.messages[-1].message_id)


def test_huge_retry_after_is_clamped_for_the_error_and_the_flood_block(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    now = [1000.0]
    channel = make_channel(clock=lambda: now[0], max_retry_after=60.0)
    fake.add_fault("sendMessage", Fault.flood(10**11))
    with pytest.raises(ChannelError) as info:
        channel.notify(alert())
    assert info.value.retry_after == 60.0
    with pytest.raises(ChannelError) as blocked:
        channel.notify(alert())
    assert blocked.value.retry_after is not None and blocked.value.retry_after <= 60.0
    now[0] += 61.0
    assert channel.notify(alert()).channel_message_id is not None


def test_fake_answers_409_to_the_older_of_two_concurrent_polls(fake: FakeTelegramServer) -> None:
    import json as _json
    import urllib.error
    import urllib.request

    url = f"{fake.base_url}{TOKEN}/getUpdates"
    results: list[int] = []

    def poll() -> None:
        request = urllib.request.Request(url, data=_json.dumps({"timeout": 5}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                results.append(response.status)
        except urllib.error.HTTPError as exc:
            results.append(exc.code)
            assert "terminated by other getUpdates request" in exc.read().decode()

    older = threading.Thread(target=poll)
    older.start()
    fake.wait_for_requests("getUpdates", 1, WAIT)
    newer = threading.Thread(target=poll)
    newer.start()
    older.join(WAIT)
    assert results == [409] and fake.conflicts == 1
    fake.push_text(CHAT, "wake the newer poll")
    newer.join(WAIT)
    assert results == [409, 200]


def _second_in_standby(make_channel: MakeChannel, fake: FakeTelegramServer, first: TelegramChannel,
                       **kwargs: Any) -> TelegramChannel:
    """Start ``first`` polling, then a second channel on the same bot, and wait for it to go to standby."""
    first.start_polling()
    fake.wait_for_requests("getUpdates", 1, WAIT)
    polling_since = fake.requests_for("getUpdates")[0].t
    assert fake.wait_for(lambda: time.monotonic() - polling_since > 0.5, WAIT)  # past the "cut short" window
    second = make_channel(**kwargs)
    second.start_polling()
    assert fake.wait_for(lambda: second.standby() is not None, WAIT * 2)
    return second


def test_the_second_poller_on_a_token_goes_to_standby_keeps_sending_and_resumes_when_alone(
    make_channel: MakeChannel, fake: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="engine.channels.telegram.channel")
    first = make_channel(on_command=lambda c, a: "first", standby_retry=1.0)
    # the first has been polling for a while (longer than the 0.25 s "cut short" window) when the second comes
    second = _second_in_standby(make_channel, fake, first, on_command=lambda c, a: "second", standby_retry=1.0)
    losing, winning = second, first
    assert losing.standby() == "Telegram commands are handled by another instance (or program) using this bot"
    # the standby one probes (each probe costs the poller one 409) but never takes the commands over
    probes = len(fake.requests_for("getUpdates"))
    assert fake.wait_for(lambda: len(fake.requests_for("getUpdates")) >= probes + 4, WAIT * 2)
    assert winning.standby() is None and losing.standby() is not None
    fake.push_command(CHAT, "/status")
    assert fake.wait_for(lambda: any(m.text == "first" for m in fake.messages), WAIT * 3)
    assert losing.notify(alert()).channel_message_id is not None  # standby still sends
    entered = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(entered) == 1 and "handled by another instance" in entered[0].getMessage(), \
        [r.getMessage() for r in entered]
    winning.close()
    fake.push_command(CHAT, "/status")  # nobody else takes it now: the standby one resumes
    assert fake.wait_for(lambda: any(m.text == "second" for m in fake.messages), WAIT * 3)
    assert losing.standby() is None
    assert any("handled by this instance again" in r.getMessage() for r in caplog.records)


def test_a_command_is_answered_once_while_the_poller_is_still_handling_it(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    """The standby instance probes while the poller's handler runs: the poller confirmed the update
    when it read it, so the probe finds nothing and the command is not answered twice."""
    handling, release = threading.Event(), threading.Event()

    def slow_status(command: str, args: str) -> str:
        handling.set()
        release.wait(WAIT * 3)
        return "first"

    first = make_channel(on_command=slow_status, standby_retry=1.0)
    second = _second_in_standby(make_channel, fake, first, on_command=lambda c, a: "second", standby_retry=1.0)
    fake.push_command(CHAT, "/status")
    assert handling.wait(WAIT * 2), "the poller never got the command"
    probes = len(fake.requests_for("getUpdates"))
    # two probes of the standby one while the handler still runs (before the fix they read the update)
    assert fake.wait_for(lambda: len(fake.requests_for("getUpdates")) >= probes + 2, WAIT * 2)
    release.set()
    assert fake.wait_for(lambda: any(m.text == "first" for m in fake.messages), WAIT * 2)
    probes = len(fake.requests_for("getUpdates"))
    assert fake.wait_for(lambda: len(fake.requests_for("getUpdates")) >= probes + 2, WAIT * 2)
    assert [m.text for m in fake.messages if m.text in ("first", "second")] == ["first"]
    assert second.standby() is not None and first.standby() is None


@pytest.mark.parametrize(("setting", "shared", "named"), [
    ("always", False, True), ("auto", False, False), ("auto", True, True), ("never", True, False)])
def test_messages_name_their_machine_always_or_once_the_bot_is_seen_shared(
    make_channel: MakeChannel, fake: FakeTelegramServer, setting: str, shared: bool, named: bool
) -> None:
    channel = make_channel(machine="alpha-pc", name_machine=setting)
    channel.set_shared_probe(lambda: shared)
    channel.notify(alert(title="Disk almost full"))
    assert fake.messages[-1].text.startswith("<b>[alpha-pc] Disk almost full</b>") is named


def test_a_409_makes_the_next_messages_name_their_machine_when_auto(
    make_channel: MakeChannel, fake: FakeTelegramServer
) -> None:
    second = _second_in_standby(make_channel, fake, make_channel(), machine="beta-pc", name_machine="auto",
                                standby_retry=1.0)
    second.notify(alert(title="Disk almost full"))
    assert fake.messages[-1].text.startswith("<b>[beta-pc] Disk almost full</b>")
