"""Telegram's inline buttons on alert messages: their callback data, built and parsed (pure).

Button data is ``<action>:<notification id>:<instance id>:<machine>`` (at most Telegram's 64
bytes, the machine name clipped to fit): with one bot token on two machines, a press reaches
whichever polls, and only the instance that sent the message acts on it. The other answers
"Handled by Watchkeeper on <machine>" and changes nothing. Data from before instance ids
(``ack:12``) is honoured only on the message this instance itself sent for that notification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from engine.channels.telegram.format import CALLBACK_DATA_MAX_BYTES

ACTIONS = {"ack": None, "s1h": timedelta(hours=1), "s1d": timedelta(days=1)}
BUTTON_LABELS = (("Ack", "ack"), ("Snooze 1h", "s1h"), ("Snooze 1d", "s1d"))
_INSTANCE_RE = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class ButtonPress:
    """A parsed button: what to do to which notification, and which instance sent it."""

    action: str
    notification_id: int
    instance_id: str | None  # None: a button from before instance ids ("ack:12")
    machine: str | None = None


def button_data(action: str, notification_id: int, instance_id: str, machine: str) -> str:
    """``action:id:instance:machine``, the machine name clipped (whole characters) to 64 bytes."""
    head = f"{action}:{notification_id}:{instance_id}:"
    room = CALLBACK_DATA_MAX_BYTES - len(head.encode("utf-8"))
    name = machine.replace(":", "-").strip()
    while len(name.encode("utf-8")) > room:
        name = name[:-1]
    return head + name


def alert_buttons(notification_id: int, instance_id: str, machine: str) -> list[tuple[str, str]]:
    """The inline buttons of an alert message: Ack · Snooze 1h · Snooze 1d (naming this instance)."""
    return [(label, button_data(action, notification_id, instance_id, machine)) for label, action in BUTTON_LABELS]


def buttons_after(action: str, notification_id: int, instance_id: str, machine: str) -> list[tuple[str, str]]:
    """The buttons that still make sense on a message after ``action``: none after Ack; Ack (only)
    on a snoozed alert, which will come back."""
    if action == "ack":
        return []
    return [("Ack", button_data("ack", notification_id, instance_id, machine))]


def parse_callback(data: str) -> ButtonPress | None:
    """'ack:12:1a2b3c4d:laptop' -> ButtonPress('ack', 12, '1a2b3c4d', 'laptop'); 'ack:12' (old
    messages) -> instance None; None for anything else."""
    parts = data.split(":", 3)
    if parts[0] not in ACTIONS or len(parts) not in (2, 4) or not parts[1].isdigit():
        return None
    if len(parts) == 2:
        return ButtonPress(parts[0], int(parts[1]), None)
    if not _INSTANCE_RE.fullmatch(parts[2]):
        return None
    return ButtonPress(parts[0], int(parts[1]), parts[2], parts[3] or None)


def handled_elsewhere(press: ButtonPress) -> str:
    """The answer to a press on another instance's message."""
    where = f"Watchkeeper on {press.machine}" if press.machine else "another Watchkeeper"
    return f"Handled by {where}; nothing changed here."
