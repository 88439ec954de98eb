"""CLI: checks, check run|why, alerts (ack, snooze), pause, resume, log.

Each command parses its arguments, calls an action (engine.actions) and prints the result.
Check runs and pause / resume go through the running instance when one runs (so its scheduler,
snapshots and delivery see the change at once); the rest work on the database and tell a running
instance to refresh.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from engine import runtime_state
from engine.actions import alerts, checks, delivery, instance
from engine.actions.errors import ActionError, Invalid, NotFound
from engine.alerts.store import Alert
from engine.cli.context import CliContext, emit_json
from engine.timeutil import to_db, utcnow


def register(sub: Any) -> None:
    """Add the check and alert commands to the CLI."""
    checks = sub.add_parser("checks", help="checks with schedule, cooldown, last run and state")
    checks.add_argument("--json", action="store_true")
    checks.set_defaults(handler=cmd_checks)

    check = sub.add_parser("check", help="check run NAME|--all, check why NAME")
    check_sub = check.add_subparsers(dest="check_command", required=True)
    run = check_sub.add_parser("run", help="evaluate now and dispatch under the rate limits")
    run.add_argument("name", nargs="?")
    run.add_argument("--all", action="store_true")
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=cmd_check_run, config_optional="instance")
    why = check_sub.add_parser("why", help="the cooldown decision, in plain words")
    why.add_argument("name")
    why.add_argument("--json", action="store_true")
    why.set_defaults(handler=cmd_check_why)

    baseline = check_sub.add_parser("baseline", help="show the baseline of a check that keeps one, or --reset it")
    baseline.add_argument("name")
    baseline.add_argument("--reset", action="store_true", help="forget it; the next run takes a new one")
    baseline.add_argument("--json", action="store_true")
    baseline.set_defaults(handler=cmd_check_baseline)

    alerts = sub.add_parser("alerts", help="list alerts; alerts ack ID; alerts snooze ID DURATION")
    alerts.add_argument("--json", action="store_true")
    alerts.add_argument("--all", action="store_true", help="include resolved alerts")
    alerts.set_defaults(handler=cmd_alerts)
    alerts_sub = alerts.add_subparsers(dest="alerts_command")
    ack = alerts_sub.add_parser("ack", help="acknowledge an alert")
    ack.add_argument("id", type=int)
    ack.set_defaults(handler=cmd_alerts_ack)
    snooze = alerts_sub.add_parser("snooze", help="snooze an alert for a duration (1h, 1d)")
    snooze.add_argument("id", type=int)
    snooze.add_argument("duration")
    snooze.set_defaults(handler=cmd_alerts_snooze)

    pause = sub.add_parser("pause", help="pause all alerts for a duration (2h, 1d)")
    pause.add_argument("duration")
    pause.set_defaults(handler=cmd_pause, config_optional=True)
    sub.add_parser("resume", help="resume alerts").set_defaults(handler=cmd_resume, config_optional=True)

    log = sub.add_parser("log", help="the notification decisions (heartbeat_log)")
    log.add_argument("--check")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=cmd_log)


def _local(ctx: CliContext, value: str | None, *, seconds: bool = False) -> str:
    """A stored time in the user's zone, as everywhere (engine.timeutil.human_time); "-" for none."""
    from engine.timeutil import human_time, resolve_timezone

    return human_time(value, resolve_timezone(ctx.config.general.timezone), seconds=seconds, never="-")


ALERTS_LISTED = 500  # `alerts` shows at most this many, newest first
CLI_CHECK_KEYS = ("name", "kind", "enabled", "schedule", "cooldown", "severity", "last_run", "last_outcome",
                  "last_error", "open_alerts", "description")  # what `checks --json` shows of each check


def cmd_checks(args: argparse.Namespace, ctx: CliContext) -> int:
    infos = checks.list_checks(ctx.offline())
    if args.json:
        emit_json([{key: getattr(info, key) for key in CLI_CHECK_KEYS} for info in infos])
        return 0
    print(f"{'check':<20} {'schedule':<20} {'cooldown':<9} {'last run':<22} {'state':<8} open")
    for r in infos:
        state = r.last_outcome or ("disabled" if not r.enabled else "-")
        print(f"{r.name:<20} {r.schedule:<20} {r.cooldown:<9} {_local(ctx, r.last_run):<22} "
              f"{state:<8} {r.open_alerts}")
    return 0


def cmd_check_run(args: argparse.Namespace, ctx: CliContext) -> int:
    if bool(args.name) == bool(args.all):
        print("watchkeeper: give a check name or --all", file=sys.stderr)
        return 2
    names = None if args.all else [args.name]
    reply = ctx.send("check_run", names=names, timeout=300)
    if reply is not None:
        runs = reply["runs"]
    else:
        try:
            result = checks.run_checks(ctx.offline(), names, "manual")
        except NotFound as exc:
            print(f"watchkeeper: {exc}", file=sys.stderr)
            return 2
        _deliver_inline(ctx)
        routes = delivery.notification_routes(ctx.offline(), checks.notification_ids(result.runs))
        runs = dataclasses.replace(result, routes=routes).to_dict()["runs"]  # where they went after delivering
    if args.json:
        emit_json(runs)
    else:
        for r in runs:
            if r["error"]:
                print(f"{r['check']}: ERROR {r['error']}")
            elif r["decision"]:
                print(f"{r['check']}: {r['findings']} finding(s) -> {r['decision']}{_routes_text(r)} ({r['reason']})")
            else:
                print(f"{r['check']}: {r['outcome']} ({r['findings']} finding(s))")
    return 1 if any(r["error"] for r in runs) else 0


def _routes_text(run: dict[str, Any]) -> str:
    """' -> telegram (queued), toast (unavailable)' for a run that queued a notification."""
    if run.get("notification_id") is None:
        return ""
    went = run.get("delivered_to") or []
    if not went:
        return " -> no channel (none enabled receives it)"
    return " -> " + ", ".join(f"{r['channel']} ({r['state']})" for r in went)


def _deliver_inline(ctx: CliContext) -> None:
    """Without a running instance, deliver what was just queued before exiting (bounded)."""
    from engine.delivery.service import deliver_pending_once

    if deliver_pending_once(ctx.open_db(), ctx.config, ctx.units.channels):
        for channel in delivery.channels(ctx.offline()):
            note = f" (last error: {channel.last_error})" if channel.pending and channel.last_error else ""
            print(f"delivery via {channel.name}: {channel.state}, {channel.pending} pending{note}",
                  file=sys.stderr)


def cmd_check_why(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        explanation = checks.why(ctx.offline(), args.name)
    except NotFound as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 2
    if args.json:
        emit_json(explanation.to_dict())
    else:
        print(explanation.text())
    return 0


def cmd_check_baseline(args: argparse.Namespace, ctx: CliContext) -> int:
    import json

    kinds = ctx.units.check_kinds.builtin_by_name()
    with_baseline = {name: kind for name, kind in kinds.items() if kind.baseline_noun}
    kind = with_baseline.get(args.name)
    if kind is None:
        print(f"watchkeeper: no check with a baseline named {args.name!r}; checks with one: "
              + ", ".join(with_baseline), file=sys.stderr)
        return 2
    db = ctx.open_db()
    key = f"check.{args.name}.baseline"  # where CheckService keeps the check's state "baseline"
    if args.reset:
        runtime_state.set_value(db, key, None)
        print(f"Baseline forgotten; the next run of {args.name} takes a new one.")
        return 0
    stored = runtime_state.get_value(db, key)
    entries = json.loads(stored) if stored else None
    if args.json:
        emit_json({"check": args.name, "baseline": entries})
    elif entries is None:
        print(f"No baseline yet: the first run of {args.name} takes it.")
    else:
        print(f"{len(entries)} {kind.baseline_noun} in the baseline: " + ", ".join(entries))
    return 0


def cmd_alerts(args: argparse.Namespace, ctx: CliContext) -> int:
    alerts_page = alerts.list_alerts(ctx.offline(), live_only=not args.all, limit=ALERTS_LISTED)
    if args.json:
        emit_json([a.to_dict() for a in alerts_page.items])
        return 0
    if not alerts_page.items:
        print("No open alerts.")
    for a in alerts_page.items:
        extra = f" until {_local(ctx, to_db(a.snoozed_until))}" if a.snoozed_until else ""
        print(f"#{a.id:<5} {a.state:<12}{extra} {a.severity:<8} {a.check_name}: {a.title}")
    return 0


def _alert_action(action: Callable[[], Alert]) -> int:
    try:
        alert = action()
    except Invalid as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 2
    except ActionError as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 1
    print(f"#{alert.id} {alert.check_name}: {alert.title} -> {alert.state}")
    return 0


def cmd_alerts_ack(args: argparse.Namespace, ctx: CliContext) -> int:
    return _alert_action(lambda: alerts.acknowledge(ctx.offline(), args.id))


def cmd_alerts_snooze(args: argparse.Namespace, ctx: CliContext) -> int:
    return _alert_action(lambda: alerts.snooze(ctx.offline(), args.id, args.duration))


def cmd_pause(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        delta = instance.pause_length(args.duration)
    except Invalid as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 2
    until = utcnow() + delta
    if ctx.send("pause", until=to_db(until)) is None:  # through the running instance, else directly
        instance.pause_until(ctx.offline(), until)
    print(f"Alerts paused until {_local(ctx, to_db(until))}.")
    return 0


def cmd_resume(args: argparse.Namespace, ctx: CliContext) -> int:
    if ctx.send("pause", until=None) is None:
        instance.resume(ctx.offline())
    print("Alerts resumed.")
    return 0


def cmd_log(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        page = checks.heartbeat_log(ctx.offline(), check=args.check, limit=args.limit)
    except (Invalid, NotFound) as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 2
    if args.json:
        emit_json(list(page.items))
        return 0
    for d in page.items:
        print(f"{_local(ctx, d['ts'], seconds=True)}  {d['check']:<20} {d['decision']:<10} {d['reason']}")
    return 0

