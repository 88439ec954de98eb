"""``watchkeeper dashboard [--no-browser]``: open the running instance's dashboard in the browser.

It asks the instance (control command ``dashboard-login``) for a one-time login URL (60 s, single
use), opens it unless ``--no-browser``, and prints it as its last line (scripts and tests read it).
Exit 1 with one line on stderr when no instance runs or its API is off."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli.context import CliContext

EXIT_OK, EXIT_FAIL = 0, 1
NOT_RUNNING = "watchkeeper is not running; start it (`watchkeeper run`, or from the Start menu) and try again"


def register(subparsers: Any) -> None:
    """Add the ``dashboard`` command to the CLI."""
    dashboard = subparsers.add_parser("dashboard", help="open the dashboard (a local web page) in the browser")
    dashboard.add_argument("--no-browser", action="store_true",
                           help="only print the one-time login URL (good for 60 s, once)")
    dashboard.set_defaults(handler=cmd_dashboard, config_optional="instance")


def cmd_dashboard(args: argparse.Namespace, ctx: CliContext) -> int:
    reply = ctx.send("dashboard-login")
    if reply is None:
        print(f"watchkeeper: {NOT_RUNNING}", file=sys.stderr)
        return EXIT_FAIL
    url = reply.get("url")
    if not url:
        print(f"watchkeeper: {reply.get('error') or 'the instance gave no dashboard URL'}", file=sys.stderr)
        return EXIT_FAIL
    if not args.no_browser:
        import webbrowser

        try:
            opened = webbrowser.open(url)
        except Exception as exc:  # webbrowser raises for a broken BROWSER setting
            opened = False
            print(f"watchkeeper: could not start a browser ({exc}); open the URL below", file=sys.stderr)
        if opened is False:
            print("watchkeeper: no browser found; open the URL below within 60 seconds", file=sys.stderr)
    print(url)
    return EXIT_OK
