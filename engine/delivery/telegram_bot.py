"""The Telegram conversation: inline buttons on alert messages and the chat commands.

Pure parsing and text building, plus the handlers that call the engine through a small
protocol (so tests can drive them without a running instance).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.timeutil import parse_duration

log = logging.getLogger(__name__)

ACTIONS = {"ack": None, "s1h": timedelta(hours=1), "s1d": timedelta(days=1)}
BUTTON_LABELS = (("Ack", "ack"), ("Snooze 1h", "s1h"), ("Snooze 1d", "s1d"))


def alert_buttons(notification_id: int) -> list[tuple[str, str]]:
    """The inline buttons of an alert message: Ack · Snooze 1h · Snooze 1d."""
    return [(label, f"{action}:{notification_id}") for label, action in BUTTON_LABELS]


def parse_callback(data: str) -> tuple[str, int] | None:
    """'ack:12' -> ('ack', 12); None for anything else."""
    action, _, rest = data.partition(":")
    if action not in ACTIONS or not rest.isdigit():
        return None
    return action, int(rest)


class EngineActions(Protocol):
    """What the Telegram conversation may ask of the engine."""

    def notification_alerts(self, notification_id: int) -> list[int]: ...
    def acknowledge(self, alert_id: int) -> None: ...
    def snooze(self, alert_id: int, duration: timedelta) -> None: ...
    def status_text(self) -> str: ...
    def alerts_text(self) -> str: ...
    def run_check_text(self, name: str) -> str: ...
    def pause(self, until: datetime | None) -> None: ...
    def now(self) -> datetime: ...


class TelegramConversation:
    """Handlers given to TelegramChannel as on_callback / on_command."""

    def __init__(self, actions: EngineActions, edit: Callable[[str, str], None],
                 message_text: Callable[[int], tuple[str, str] | None]):
        self.actions = actions
        self._edit = edit  # (message_id, new text) -> None
        self._message_text = message_text  # notification id -> (title, body) of the original

    def on_callback(self, data: str, message_id: str, callback_id: str) -> str | None:
        """A button press: change the alerts' state and edit the message to show it."""
        parsed = parse_callback(data)
        if parsed is None:
            return "Unknown action."
        action, notification_id = parsed
        alert_ids = self.actions.notification_alerts(notification_id)
        if not alert_ids:
            return "Nothing to change."
        changed = 0
        for alert_id in alert_ids:
            try:
                if action == "ack":
                    self.actions.acknowledge(alert_id)
                else:
                    duration = ACTIONS[action]
                    assert duration is not None
                    self.actions.snooze(alert_id, duration)
                changed += 1
            except Exception as exc:  # already resolved, for example: say so, keep going
                log.info("telegram %s on alert %d: %s", action, alert_id, exc)
        if action == "ack":
            note = f"✅ Acknowledged ({changed} alert{'s' if changed != 1 else ''})"
        else:
            until = self.actions.now() + (ACTIONS[action] or timedelta())
            note = f"💤 Snoozed until {until:%Y-%m-%d %H:%M} UTC"
        original = self._message_text(notification_id)
        if original is not None:
            title, body = original
            try:
                self._edit(message_id, f"{title}\n{body}\n\n{note}")
            except Exception as exc:
                log.warning("could not edit the Telegram message: %s", exc)
        return note

    def on_command(self, command: str, args: list[str]) -> str:
        """/status, /alerts, /run CHECK, /pause DURATION, /resume, /help."""
        if command in ("start", "help"):
            return ("Watchkeeper commands:\n/status — health and jobs\n/alerts — open alerts\n"
                    "/run CHECK — run a check now\n/pause 2h — pause alerts\n/resume — resume alerts")
        if command == "status":
            return self.actions.status_text()
        if command == "alerts":
            return self.actions.alerts_text()
        if command == "run":
            if not args:
                return "Usage: /run CHECK (or /run all)"
            return self.actions.run_check_text(args[0])
        if command == "pause":
            try:
                duration = parse_duration(args[0] if args else "1h")
            except ValueError as exc:
                return f"Usage: /pause 2h ({exc})"
            until = self.actions.now() + duration
            self.actions.pause(until)
            return f"Alerts paused until {until:%Y-%m-%d %H:%M} UTC."
        if command == "resume":
            self.actions.pause(None)
            return "Alerts resumed."
        return f"Unknown command /{command}. Try /help."


def summarise_runs(runs: list[dict[str, Any]]) -> str:
    """Check-run results as chat text."""
    lines = []
    for r in runs:
        if r["error"]:
            lines.append(f"{r['check']}: error: {r['error']}")
        elif r["decision"]:
            lines.append(f"{r['check']}: {r['findings']} finding(s), {r['decision']} ({r['reason']})")
        else:
            lines.append(f"{r['check']}: {r['outcome']}")
    return "\n".join(lines) or "No checks ran."
