"""CLI: `watchkeeper startup install|uninstall|status [--json]` (start at login, engine.platform.startup)."""

from __future__ import annotations

import argparse
from typing import Any

from engine.cli.context import CliContext, emit_json

EXIT_OK, EXIT_FAIL = 0, 1


def register(sub: Any) -> None:
    """Add the `startup` group to the CLI's subparsers."""
    startup = sub.add_parser("startup", help="start at login: install | uninstall | status")
    startup_sub = startup.add_subparsers(dest="startup_command", required=True, parser_class=type(startup))
    install = startup_sub.add_parser(
        "install", help="start Watchkeeper at login (Windows: Task Scheduler, else the Run key; "
                        "Linux: XDG autostart; macOS: LaunchAgent)")
    install.add_argument("--json", action="store_true")
    install.set_defaults(handler=cmd_install)
    uninstall = startup_sub.add_parser("uninstall", help="remove every start-at-login registration")
    uninstall.add_argument("--json", action="store_true")
    uninstall.set_defaults(handler=cmd_uninstall)
    status = startup_sub.add_parser("status", help="what is registered (exit 0 registered, 1 not)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)


METHOD_WORDS = {
    "task-scheduler": "Task Scheduler task",
    "run-key": "per-user Run registry key",
    "xdg-autostart": "XDG autostart entry",
    "launch-agent": "LaunchAgent",
}


def _word(method: str | None) -> str:
    return METHOD_WORDS.get(method or "", method or "nothing")


def cmd_install(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.platform import startup

    result = startup.install()
    if args.json:
        emit_json(result.to_dict())
    else:
        print(f"{'installed' if result.ok else 'FAILED'}: {_word(result.method)}"
              f"{f' ({result.location})' if result.location else ''}")
        print(f"  {result.message}")
        if result.command:
            print(f"  starts: {result.command}")
    return EXIT_OK if result.ok else EXIT_FAIL


def cmd_uninstall(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.platform import startup

    result = startup.uninstall()
    if args.json:
        emit_json(result.to_dict())
    else:
        print(f"{'uninstalled' if result.ok else 'FAILED'}: {result.message}")
    return EXIT_OK if result.ok else EXIT_FAIL


def cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.platform import startup

    state = startup.status()
    if args.json:
        emit_json(state.to_dict())
    else:
        if state.registered:
            print(f"registered: {_word(state.method)}{f' ({state.location})' if state.location else ''}")
            if state.command:
                print(f"  starts: {state.command}")
        else:
            print("not registered")
        for problem in state.problems:
            print(f"  warning: {problem}")
    return EXIT_OK if state.registered else EXIT_FAIL
