"""``watchkeeper usage``: token usage and estimated cost from the archive (engine.actions.usage).

Works without a running instance (it reads the database; the logs may be gone). ``--json`` prints the
report's ``to_dict()`` (the same JSON as ``GET /usage``); otherwise an aligned table with a totals row, the
price date and the unpriced models. Exit 0 ok, 2 bad usage (a bad date, since after until, a bad price file).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import orjson

from engine.actions import usage
from engine.actions.errors import Invalid
from engine.usage_lean import COLUMNS, USAGE_HELP, add_usage_arguments, render

__all__ = ["COLUMNS", "cmd_usage", "register", "render"]


def register(subparsers: Any) -> None:
    """Add the ``usage`` command to a CLI's subparsers."""
    p = subparsers.add_parser("usage", help=USAGE_HELP)
    add_usage_arguments(p)
    p.set_defaults(handler=cmd_usage)


def cmd_usage(args: Any, ctx: Any, out: TextIO | None = None) -> int:
    """Print the usage report; exit 2 naming the bad value."""
    out = out or sys.stdout
    try:
        report = usage.usage_for(ctx.open_db(), ctx.config, group_by=args.by, since=args.since,
                                 until=args.until, agent=args.agent)
    except Invalid as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.json:
        out.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    out.write(render(report))
    return 0
