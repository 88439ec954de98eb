"""`watchkeeper status`: the running instance's snapshot, or the last known state from the DB."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from engine.actions.instance import stopped_status
from engine.cli.context import CliContext
from engine.process.lifecycle import running_instance
from engine.timeutil import human_time


def collect_status(ctx: CliContext) -> dict[str, Any]:
    """Status as plain data: {'running': bool, ...snapshot or last known}."""
    info = running_instance(ctx.paths)
    if info is not None:
        reply = ctx.send("status")
        assert reply is not None
        return {"running": True, **reply["snapshot"]}
    return {"running": False, **stopped_status(ctx.offline()).to_dict()}


def format_status(data: dict[str, Any], zone: tzinfo | None = None) -> str:
    """Human-readable status, times in ``zone`` (None: the machine's)."""

    def when(key: str, source: dict[str, Any] = data) -> str:
        return human_time(source.get(key), zone, never="-")

    if not data["running"]:
        last = data.get("last_instance")
        if not last:
            return "\n".join(["Watchkeeper is not running (never started with this data folder).",
                              *_channel_lines(data, zone), *_presence_lines(data), *_problem_lines(data)])
        how = "cleanly" if last["clean_shutdown"] else "without a clean shutdown"
        lines = [f"Watchkeeper is not running. Last instance: PID {last['pid']}, started "
                 f"{when('started_at', last)}, last heartbeat {when('last_heartbeat', last)}, stopped {how}."]
        lines += _channel_lines(data, zone)
        lines += _count_lines(data)
        lines += _presence_lines(data)
        lines += _problem_lines(data)
        return "\n".join(lines)
    lines = [
        f"Watchkeeper {data['version']} running, PID {data['pid']} since {when('started_at')}",
        f"Health: {data['summary']}",
        f"Last heartbeat: {when('last_heartbeat')}",
    ]
    if data.get("api_listen") and data["api_listen"] != data.get("api_url"):
        lines.append(f"API: {data['api_listen']}")
    elif data.get("api_url"):
        lines.append(f"API: {data['api_url'].rstrip('/')}/")
    if data.get("deadman"):
        lines.append(deadman_line(data["deadman"], zone))
    if data.get("paused_until"):
        lines.append(f"Alerts paused until {when('paused_until')}")
    lines += _presence_lines(data)
    lines += _channel_lines(data, zone)
    lines += _count_lines(data)
    if data.get("open_alerts"):
        for alert in data["open_alerts"][:10]:
            state = f" ({alert['state']})" if alert.get("state") not in (None, "open") else ""
            lines.append(f"  #{alert['id']} {alert['check']}: {alert['title']}{state}")
    lines.append("Jobs:")
    for job in data["jobs"]:
        last = f"last {job['last_outcome']}" if job["last_outcome"] else "not run yet"
        lines.append(f"  {job['name']:<22} next {when('next_run', job)}  ({last})")
    return "\n".join(lines)


def deadman_line(deadman: dict[str, Any], zone: tzinfo | None = None) -> str:
    """The dead-man switch in one line: where it pings (redacted) and how the last ping went."""
    return f"Dead-man switch ({deadman['style']}, {deadman['url']}): {deadman_result(deadman, zone)}"


def deadman_result(deadman: dict[str, Any], zone: tzinfo | None = None) -> str:
    """How the dead-man switch's last ping went ("no ping sent yet" before the first)."""
    last = deadman.get("last")
    if last is None:
        return "no ping sent yet"
    at = human_time(last["at"], zone, never="-")
    kind = {"ok": "healthy", "fail": "degraded"}.get(last["kind"], last["kind"])
    outcome = "sent" if last["ok"] else "FAILED"
    return f"last {kind} ping {outcome} at {at}" + ("" if last["ok"] else f": {last['detail']}")


def _count_lines(data: dict[str, Any]) -> list[str]:
    counts = data.get("alerts")
    if not counts:
        return []
    return [f"Alerts needing attention: {counts['attention']} (acknowledged {counts['acknowledged']}, "
            f"snoozed {counts['snoozed']})"]


def _presence_lines(data: dict[str, Any]) -> list[str]:
    if not data.get("presence"):
        return []
    return [f"Presence: {data['presence']} ({data['presence_detail']['reason']})"]


def _problem_lines(data: dict[str, Any]) -> list[str]:
    return [f"Problem: {p}" for p in data.get("problems", [])]


def _channel_lines(data: dict[str, Any], zone: tzinfo | None = None) -> list[str]:
    from engine.delivery.outbox import state_text

    lines = []
    for channel in data.get("channels", []):
        err = f", last error: {channel['last_error']}" if channel.get("last_error") else ""
        held = f", {channel['held']} held by routing" if channel.get("held") else ""
        lines.append(f"Channel {channel['name']}: {state_text(channel, zone)}, {channel['pending']} pending{held}{err}")
    return lines
