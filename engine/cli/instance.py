"""CLI: `run` (the default command), `status`, `stop`, `reload` and `doctor`: the instance itself."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli.context import CliContext, emit_json

EXIT_OK, EXIT_FAIL = 0, 1


def register(sub: Any) -> None:
    """Add run, status, stop, reload and doctor to the CLI."""
    run = sub.add_parser("run", help="start the tray app (or headless with --headless)")
    run.add_argument("--headless", action="store_true", help="run without a tray icon")
    run.add_argument("--kill-orphans", action="store_true",
                     help="end other watchkeeper processes for this data folder that do not hold the lock")
    run.set_defaults(handler=cmd_run, one_shot=False)

    status = sub.add_parser("status", help="the running instance, health and jobs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status, config_optional=True)

    stop = sub.add_parser("stop", help="stop the running instance gracefully")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to exit")
    stop.set_defaults(handler=cmd_stop, config_optional=True)

    reload = sub.add_parser("reload", help="apply the edited config.toml to the running instance now")
    reload.set_defaults(handler=cmd_reload, needs_config=False)

    doctor = sub.add_parser("doctor", help="diagnose lock, database, scheduler and config")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor, config_optional=True)


def cmd_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.engine import Engine
    from engine.process.runner import run_instance

    return run_instance(ctx.paths, ctx.config, ctx.units, make_engine=Engine,
                        frontend=None if args.headless else ctx.frontend, kill_orphans=args.kill_orphans)


def cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.cli.status import collect_status, format_status

    data = collect_status(ctx)
    if args.json:
        emit_json(data)
    else:
        from engine.timeutil import resolve_timezone

        print(format_status(data, resolve_timezone(ctx.config.general.timezone)))
    return EXIT_OK if data["running"] else EXIT_FAIL


def cmd_stop(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.process.runner import stop_instance

    return stop_instance(ctx.paths, timeout=args.timeout)


def cmd_reload(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.actions.reload import Reloaded

    reply = ctx.send("reload")
    if reply is None:
        print("watchkeeper is not running; config.toml is read when it starts", file=sys.stderr)
        return EXIT_FAIL
    if reply.get("error"):
        print(f"watchkeeper: {reply['error']}", file=sys.stderr)
        return EXIT_FAIL
    print(Reloaded(changed=list(reply.get("changed") or []), needs_restart=list(reply.get("needs_restart") or [])).text)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.cli.doctor import diagnose

    findings = diagnose(ctx)
    if args.json:
        emit_json([f.__dict__ for f in findings])
    else:
        for f in findings:
            print(f"{'OK     ' if f.ok else 'PROBLEM'} {f.area}: {f.message}")
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAIL
