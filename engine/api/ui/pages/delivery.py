"""``/ui/delivery``: the Delivery page: each channel's state (in words with an icon) and last error,
the outbox counted per channel (pending, failed, collapsed, ...) and the newest rows that failed for
good (actions.delivery_overview). ``POST /ui/delivery/{channel}/test`` sends the test message through
one enabled channel (actions.delivery.send_test_message) and answers the channel's row fragment
(partials/delivery_channel.html) saying whether it went out, or why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.actions import delivery, delivery_overview
from engine.actions.errors import ActionError
from engine.api.ui.context import Ui, UiDep
from engine.snapshot import ChannelState

# Words and an icon per channel state: the icon differs in shape too, never colour alone.
CHANNEL_WORDS = {
    "ok": ("OK", "✓"),
    "unavailable": ("Unavailable", "–"),
    "broken": ("Broken", "✕"),
    "disabled": ("Disabled", "○"),
    "rate-limited": ("Rate-limited", "⏳"),
}
OUTBOX_COLUMNS = (("Pending", "pending"), ("Sending", "sending"), ("Sent", "sent"), ("Failed", "failed"),
                  ("Collapsed", "collapsed"), ("Held", "held"), ("Skipped", "skipped"))
FAILED_SHOWN = 20


@dataclass(frozen=True)
class ChannelView:
    """One channel row: its state in words and icon, and whether it can be sent a test."""

    channel: ChannelState
    words: str
    icon: str

    @property
    def testable(self) -> bool:
        return self.channel.state != "disabled"

    @classmethod
    def of(cls, channel: ChannelState) -> ChannelView:
        words, icon = CHANNEL_WORDS.get(channel.state, (channel.state, "?"))
        return cls(channel, words, icon)


router = APIRouter()


@router.get("/ui/delivery", response_class=HTMLResponse)
def delivery_page(request: Request, ui: UiDep) -> HTMLResponse:
    """The Delivery page."""
    seen = delivery_overview.delivery_overview(ui.engine, failed=FAILED_SHOWN)
    return ui.page(request, "delivery.html", title="Delivery", views=tuple(ChannelView.of(c) for c in seen.channels),
                   outbox=seen.outbox, columns=OUTBOX_COLUMNS, failed=seen.failed, **ROW_DEFAULTS)


ROW_DEFAULTS: dict[str, Any] = {"sent": None, "refusal": None}


@router.post("/ui/delivery/{channel}/test", response_class=HTMLResponse)
def send_test(channel: str, ui: UiDep) -> HTMLResponse:
    """Send the test message through ``channel``; its row, saying it went out or why not."""
    try:
        sent = delivery.send_test_message(ui.engine, channel)
    except ActionError as exc:
        return channel_row(ui, channel, refusal=str(exc))
    return channel_row(ui, channel, sent=sent)


def channel_row(ui: Ui, name: str, *, sent: delivery.TestSent | None = None, refusal: str | None = None,
                ) -> HTMLResponse:
    """The row fragment of channel ``name`` as it is now (a bare row with the message for an unknown channel)."""
    found = [c for c in delivery.channels(ui.engine) if c.name == name]
    if not found:
        return HTMLResponse(ui.templates.get_template("partials/delivery_missing.html").render(
            name=name, refusal=refusal or f"no channel named {name!r}"))
    return HTMLResponse(ui.templates.get_template("partials/delivery_channel.html").render(
        view=ChannelView.of(found[0]), sent=sent, refusal=refusal))
