"""Channel contract: redaction, ChannelError, message dataclasses."""

from __future__ import annotations

import pickle

import pytest

from engine.channels.base import (
    REDACTED,
    Channel,
    ChannelError,
    Delivery,
    OutgoingMessage,
    redact,
)
from engine.channels.toast import ToastChannel

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def test_redact_configured_secret_and_token_pattern() -> None:
    other = "987654321:AAbbCCddEEffGGhhIIjjKKllMMnn_-x"
    text = f"url http://h/bot{TOKEN}/sendMessage and {other} and custom-secret-value"
    out = redact(text, ["custom-secret-value"])
    assert TOKEN not in out
    assert other not in out
    assert "custom-secret-value" not in out
    assert out.count(REDACTED) == 3


def test_redact_percent_encoded_token() -> None:
    encoded = TOKEN.replace(":", "%3A")
    assert encoded not in redact(f"GET /bot{encoded}/getMe", [TOKEN])
    assert encoded not in redact(f"GET /bot{encoded}/getMe", [])


def test_redact_leaves_ordinary_text_and_ignores_tiny_secrets() -> None:
    text = "disk 12:30 almost full, 5 errors"
    assert redact(text, ["", "a", "12"]) == text


def test_channel_error_never_contains_token() -> None:
    err = ChannelError(f"The token `{TOKEN}` was rejected", permanent=True, secrets=[TOKEN])
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err)
    assert err.permanent is True
    assert err.retry_after is None


def test_channel_error_redacts_token_shape_without_configured_secret() -> None:
    err = ChannelError(f"boom {TOKEN}", permanent=False, retry_after=2.0, kind="RetryAfter")
    assert TOKEN not in str(err)
    assert (err.permanent, err.retry_after, err.kind) == (False, 2.0, "RetryAfter")


def test_channel_error_pickles() -> None:
    err = ChannelError("x", permanent=False, retry_after=3.0, kind="RetryAfter")
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.permanent, copy.retry_after, copy.kind) == (
        "x",
        False,
        3.0,
        "RetryAfter",
    )


def test_outgoing_message_defaults_and_validation() -> None:
    msg = OutgoingMessage(title="t", body="b")
    assert msg.severity == "info" and msg.buttons == [] and msg.reply_to is None
    with pytest.raises(ValueError):
        OutgoingMessage(title="t", body="b", severity="loud")
    assert Delivery().channel_message_id is None


def test_toast_channel_satisfies_protocol() -> None:
    assert isinstance(ToastChannel(platform="win32"), Channel)
