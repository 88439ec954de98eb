"""Pure Telegram helpers: formatting/splitting, keyboards, commands, error classification."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import error as tg

from engine.channels.base import OutgoingMessage
from engine.channels.telegram.format import (
    MAX_TEXT,
    classify,
    fit_html,
    format_message,
    format_text,
    keyboard_rows,
    normalize_base_url,
    parse_command,
    parse_message_id,
)
from tests.fakes.telegram_api import _visible_text

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def squash(text: str) -> str:
    return "".join(text.split())


# ---------------------------------------------------------------- formatting


def test_title_bold_and_everything_escaped() -> None:
    chunks = format_message(
        OutgoingMessage(title="<disk> & co", body="<script>alert(1)</script> a&b")
    )
    assert chunks == ["<b>&lt;disk&gt; &amp; co</b>\n&lt;script&gt;alert(1)&lt;/script&gt; a&amp;b"]
    _, error = _visible_text(chunks[0], "HTML")
    assert error is None


def test_empty_body_gives_title_only() -> None:
    assert format_message(OutgoingMessage(title="Ping", body="")) == ["<b>Ping</b>"]


def test_long_text_splits_on_line_boundaries() -> None:
    lines = [f"line {i:05d} " + "x" * 80 for i in range(200)]
    chunks = format_text("\n".join(lines), title="Report")
    assert len(chunks) > 1
    assert all(units(c) <= MAX_TEXT for c in chunks)
    for chunk in chunks[1:]:
        assert chunk.startswith("line ")  # every chunk starts on a line boundary
    assert squash(html.unescape("".join(chunks))) == squash("<b>Report</b>" + "".join(lines))


def test_single_huge_line_is_hard_split_without_breaking_entities() -> None:
    body = "&<>" * 5000
    chunks = format_text(body)
    assert len(chunks) > 1
    for chunk in chunks:
        assert units(chunk) <= MAX_TEXT
        assert _visible_text(chunk, "HTML")[1] is None
    assert html.unescape("".join(chunks)) == body


def test_emoji_measured_in_utf16_units() -> None:
    chunks = format_text("🔥" * 3000)
    assert all(units(c) <= MAX_TEXT for c in chunks)
    assert "".join(chunks) == "🔥" * 3000


def test_fit_html_cuts_to_one_chunk() -> None:
    text = fit_html("y" * 10000, title="T")
    assert units(text) <= MAX_TEXT and text.endswith("…")


@settings(max_examples=150, deadline=None)
@given(
    body=st.text(alphabet=st.sampled_from(list("ab <>&\n🔥é")), max_size=400),
    title=st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("T<&")), max_size=5)),
    limit=st.integers(min_value=40, max_value=80),
)
def test_format_text_properties(body: str, title: str | None, limit: int) -> None:
    chunks = format_text(body, title=title, limit=limit)
    assert chunks
    for chunk in chunks:
        assert units(chunk) <= limit
        assert _visible_text(chunk, "HTML")[1] is None
    content = html.unescape("".join(chunks).replace("<b>", "").replace("</b>", ""))
    expected = (" ".join(title.split()) if title and title.strip() else "") + body
    if squash(body) or title and title.strip():
        assert squash(content) == squash(expected)


# ---------------------------------------------------------------- small helpers


def test_keyboard_rows_group_by_three_and_validate() -> None:
    buttons = [(f"b{i}", f"d{i}") for i in range(5)]
    assert keyboard_rows(buttons) == [buttons[:3], buttons[3:]]
    assert keyboard_rows([]) == []
    with pytest.raises(ValueError):
        keyboard_rows([("Ack", "x" * 65)])
    with pytest.raises(ValueError):
        keyboard_rows([("", "ack")])


@pytest.mark.parametrize(
    ("text", "username", "expected"),
    [
        ("/status", None, ("status", [])),
        ("/Mute disk 1h", None, ("mute", ["disk", "1h"])),
        ("/status@watchkeeper_test_bot", "watchkeeper_test_bot", ("status", [])),
        ("/status@other_bot", "watchkeeper_test_bot", None),
        ("hello", None, None),
        ("/", None, None),
        ("", None, None),
    ],
)
def test_parse_command(
    text: str, username: str | None, expected: tuple[str, list[str]] | None
) -> None:
    assert parse_command(text, username) == expected


def test_parse_message_id_and_base_url() -> None:
    assert parse_message_id("17") == 17
    assert parse_message_id(None) is None
    assert parse_message_id("toast-1") is None
    assert normalize_base_url(None) is None
    assert normalize_base_url("http://127.0.0.1:8081") == "http://127.0.0.1:8081/bot"
    assert normalize_base_url("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/bot"
    assert normalize_base_url("http://h/x/{token}/y") == "http://h/x/{token}/y"


# ---------------------------------------------------------------- classify


@pytest.mark.parametrize("value", [2, timedelta(seconds=2)])
def test_classify_retry_after_int_or_timedelta(value: int | timedelta) -> None:
    err = classify(tg.RetryAfter(value))
    assert err.permanent is False and err.retry_after == 2.0 and err.kind == "RetryAfter"


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (tg.Forbidden("Forbidden: bot was blocked by the user"), True),
        (tg.InvalidToken(f"The token `{TOKEN}` was rejected by the server."), True),
        (tg.BadRequest("Bad Request: chat not found"), True),  # subclass of NetworkError!
        (tg.ChatMigrated(-100123), True),
        (tg.TimedOut(), False),
        (tg.NetworkError("httpx.ConnectError: All connection attempts failed"), False),
        (tg.NetworkError("Internal Server Error"), False),
        (tg.Conflict("terminated by other getUpdates request"), False),
        (TimeoutError(), False),
        (RuntimeError("Event loop is closed"), False),
        (ValueError("bad chat id"), True),
    ],
)
def test_classify_permanent_vs_transient(exc: BaseException, permanent: bool) -> None:
    err = classify(exc, [TOKEN])
    assert err.permanent is permanent
    assert err.retry_after is None
    assert TOKEN not in str(err)


def test_classify_chat_not_found_hints_at_start() -> None:
    assert "/start" in str(classify(tg.BadRequest("Chat not found")))
