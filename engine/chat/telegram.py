"""The Telegram conversation: what the alert buttons and the chat commands do.

A front end like the CLI: each handler parses a press or a command, calls an action
(engine.actions) on the running instance and renders its result as chat text. The button data
format (engine.channels.telegram.buttons) and the channel itself stay with the channel; a press
on another instance's message is answered and changes nothing here. ``converse`` binds the
conversation to a started channel; engine.units registers it for the telegram channel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from engine.actions import alerts, checks
from engine.actions import instance as instance_actions
from engine.actions.errors import ActionError, Invalid, NotFound
from engine.channels.base import Channel, ConversationContext
from engine.channels.telegram import identity
from engine.channels.telegram.buttons import ACTIONS, ButtonPress, buttons_after, handled_elsewhere, parse_callback
from engine.chat import life as life_chat
from engine.machine import machine_name
from engine.timeutil import human_time, resolve_timezone

if TYPE_CHECKING:
    from datetime import tzinfo

    from engine.actions.target import Instance
    from engine.channels.telegram.channel import TelegramChannel
    from engine.snapshot import Snapshot

log = logging.getLogger(__name__)

RUN_TRIGGER = "telegram"  # how check runs asked for in the chat are recorded

# Every chat command, in menu order: the command menu (setMyCommands), /help and the handlers agree
# on this list (/applied and /progress record an application or goal progress from the phone).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", "health, open alerts and channels"),
    ("alerts", "the open alerts"),
    ("ack", "acknowledge an alert: /ack 12"),
    ("run", "run a check now: /run CHECK or /run all"),
    ("pause", "pause alerts: /pause 2h"),
    ("resume", "resume alerts"),
    ("applied", "record an application: /applied COMPANY — ROLE"),
    ("progress", "record progress on a goal: /progress GOAL NOTE"),
    ("goals", "your active goals, with their ids"),
    ("help", "what Watchkeeper understands here"),
)


def help_text() -> str:
    """/help and /start: every command with what it does."""
    return "Watchkeeper commands:\n" + "\n".join(f"/{name} — {what}" for name, what in COMMANDS)


class EditMessage(Protocol):
    """Replace a sent message's text (bold ``title``) and its buttons (TelegramChannel.edit)."""

    def __call__(self, message_id: str, text: str, buttons: list[tuple[str, str]] | None = None, *,
                 title: str | None = None) -> None: ...


def status_text(snap: Snapshot, zone: tzinfo | None = None) -> str:
    """/status: health, the alerts needing attention (acknowledged and snoozed apart), each channel,
    and the pause (in ``zone``)."""
    counts = snap.alerts
    lines = [f"Watchkeeper {snap.version}: {snap.health.summary}",
             f"Need attention: {counts.attention} (acknowledged {counts.acknowledged}, snoozed {counts.snoozed})"]
    lines += [f"{c.name}: {c.state}, {c.pending} pending" for c in snap.channels]
    if snap.paused_until:
        lines.append(f"Paused until {human_time(snap.paused_until, zone)}")
    return "\n".join(lines)


def alerts_text(snap: Snapshot) -> str:
    """/alerts: the open alerts (at most 30), one a line."""
    if not snap.open_alerts:
        return "No open alerts."
    return "\n".join(f"#{a.id} {a.check_name}: {a.title} ({a.state})" for a in snap.open_alerts[:30])


def runs_text(runs: list[dict[str, Any]]) -> str:
    """/run: check-run results (``CheckRun.to_dict()``), one line per check."""
    lines = []
    for r in runs:
        if r["error"]:
            lines.append(f"{r['check']}: error: {r['error']}")
        elif r["decision"]:
            lines.append(f"{r['check']}: {r['findings']} finding(s), {r['decision']} ({r['reason']})")
        else:
            lines.append(f"{r['check']}: {r['outcome']}")
    return "\n".join(lines) or "No checks ran."


class TelegramConversation:
    """Handlers given to TelegramChannel as on_callback / on_command."""

    def __init__(self, instance: Instance, edit: EditMessage,
                 message_text: Callable[[int], tuple[str, str] | None], *, instance_id: str,
                 sent_message_id: Callable[[int], str | None],
                 seen_other_machine: Callable[[str], None] = lambda machine: None):
        self.instance = instance  # what the actions act on: the running engine
        self._edit = edit  # (message_id, new text, buttons, title=) -> None
        self._message_text = message_text  # notification id -> (title, body) of the original
        self.instance_id = instance_id
        self._sent_message_id = sent_message_id  # notification id -> the Telegram message sent here
        self._seen_other_machine = seen_other_machine  # machine name -> remembered (messages then name theirs)

    def is_ours(self, press: ButtonPress, message_id: str) -> bool:
        """This instance sent the pressed message: its id is in the data, or (old data) the pressed
        message is the one this instance delivered for that notification."""
        if press.instance_id is not None:
            return press.instance_id == self.instance_id
        return bool(message_id) and self._sent_message_id(press.notification_id) == message_id

    def on_callback(self, data: str, message_id: str, callback_id: str) -> str | None:
        """A button press: change the alerts' state and edit the message to show it."""
        press = parse_callback(data)
        if press is None:
            return "Unknown action."
        if not self.is_ours(press, message_id):
            log.info("button %r on message %s belongs to another instance; not acting on it", data, message_id)
            if press.instance_id is not None:
                try:
                    self._seen_other_machine(press.machine or press.instance_id)
                except Exception as exc:  # noqa: BLE001 - the answer matters more than the record
                    log.warning("could not record the other machine: %s", exc)
            return handled_elsewhere(press)
        action, notification_id = press.action, press.notification_id
        alert_ids = alerts.notification_alerts(self.instance, notification_id)
        if not alert_ids:
            return "Nothing to change."
        changed = 0
        for alert_id in alert_ids:
            try:
                if action == "ack":
                    alerts.acknowledge(self.instance, alert_id)
                else:
                    duration = ACTIONS[action]
                    assert duration is not None
                    alerts.snooze(self.instance, alert_id, duration)
                changed += 1
            except Exception as exc:  # already resolved, for example: say so, keep going
                log.info("telegram %s on alert %d: %s", action, alert_id, exc)
        if action == "ack":
            note = f"✅ Acknowledged ({changed} alert{'s' if changed != 1 else ''})"
        else:
            until = self.instance.now() + (ACTIONS[action] or timedelta())
            note = f"💤 Snoozed until {human_time(until, self.zone())}"
        original = self._message_text(notification_id)
        if original is not None:
            title, body = original
            buttons = buttons_after(action, notification_id, self.instance_id,
                                    machine_name(self.instance.config.general.machine_name))
            try:
                self._edit(message_id, f"{body}\n\n{note}" if body.strip() else note, buttons, title=title)
            except Exception as exc:
                log.warning("could not edit the Telegram message: %s", exc)
        return note

    def zone(self) -> tzinfo:
        """The zone times are shown in: ``[general] timezone``, else the machine's."""
        return resolve_timezone(self.instance.config.general.timezone)

    def on_command(self, command: str, args: list[str]) -> str:
        """The commands in COMMANDS (/start is /help); the data commands are engine.chat.life's."""
        if command in ("start", "help"):
            return help_text()
        if command in life_chat.COMMANDS:
            return life_chat.COMMANDS[command](self.instance, args)
        if command == "status":
            return status_text(instance_actions.status(self.instance).snapshot, self.zone())
        if command == "ack":
            return self.ack_command(args)
        if command == "alerts":
            return alerts_text(instance_actions.status(self.instance).snapshot)
        if command == "run":
            if not args:
                return "Usage: /run CHECK (or /run all)"
            try:
                runs = checks.run_checks(self.instance, None if args[0] == "all" else [args[0]], RUN_TRIGGER)
            except NotFound as exc:
                return str(exc)
            return runs_text(runs.to_dict()["runs"])
        if command == "pause":
            try:
                paused = instance_actions.pause(self.instance, args[0] if args else "1h")
            except Invalid as exc:
                return f"Usage: /pause 2h ({exc})"
            return f"Alerts paused until {human_time(paused.paused_until, self.zone())}."
        if command == "resume":
            instance_actions.resume(self.instance)
            return "Alerts resumed."
        return f"Unknown command /{command}. Try /help."

    def ack_command(self, args: list[str]) -> str:
        """/ack N: acknowledge alert #N (the number /alerts shows)."""
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            return "Usage: /ack N (the alert number from /alerts)"
        try:
            alert = alerts.acknowledge(self.instance, int(args[0].lstrip("#")))
        except ActionError as exc:
            return str(exc)
        return f"✅ Acknowledged #{alert.id}: {alert.title}"


def converse(channel: Channel, actions: Any, context: ConversationContext) -> None:
    """Answer button presses and chat commands through ``actions`` (the engine), then poll."""
    from engine.channels.telegram.channel import TelegramChannel
    from engine.store.db import connection

    if not isinstance(channel, TelegramChannel):
        raise TypeError(f"the telegram conversation needs a TelegramChannel, not {type(channel).__name__}")
    with connection(context.db):
        instance = identity.instance_id(context.db)

    def seen_other_machine(machine: str) -> None:
        with connection(context.db):
            identity.record_other_machine(context.db, machine)

    def shared() -> bool:
        with connection(context.db):
            return bool(identity.other_machines(context.db))

    conversation = TelegramConversation(actions, edit=channel.edit, message_text=context.message_text,
                                        instance_id=instance, sent_message_id=context.sent_message_id,
                                        seen_other_machine=seen_other_machine)
    channel.set_shared_probe(shared)
    channel.set_handlers(on_callback=conversation.on_callback, on_command=conversation.on_command)
    threading.Thread(target=_set_menu, args=(channel,), name="watchkeeper-telegram-menu", daemon=True).start()
    channel.start_polling()


def _set_menu(channel: TelegramChannel) -> None:
    """The chat's command menu (off the start-up path: it is a network round trip)."""
    try:
        channel.set_commands(COMMANDS)
    except Exception as exc:  # noqa: BLE001 - the menu is a convenience; commands work without it
        log.warning("could not set the Telegram command menu: %s", exc)
