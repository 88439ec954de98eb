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

COLUMNS = ("input", "output", "cache write", "cache read", "cost USD")


def register(subparsers: Any) -> None:
    """Add the ``usage`` command to a CLI's subparsers."""
    p = subparsers.add_parser("usage", help="token usage and estimated cost (Claude Code, Codex) from the archive")
    p.add_argument("--by", choices=usage.GROUPS, default="day", help="group by (default: day, local to the zone)")
    p.add_argument("--since", metavar="DATE", help="first local day counted, YYYY-MM-DD")
    p.add_argument("--until", metavar="DATE", help="last local day counted, YYYY-MM-DD")
    p.add_argument("--agent", choices=usage.AGENTS, help="one agent only (default: both)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
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


def _cost(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def render(report: usage.UsageReport) -> str:
    """The report as an aligned text table: one row per group, a totals row, the price date, unpriced models."""
    if not report.rows:
        return "no token usage archived for this selection\n"
    head = (report.group_by, *COLUMNS)
    lines = [(r.key, f"{r.input_tokens:,}", f"{r.output_tokens:,}", f"{r.cache_creation_tokens:,}",
              f"{r.cache_read_tokens:,}", _cost(r.cost_usd)) for r in report.rows]
    t = report.totals
    total = ("total", f"{t.input_tokens:,}", f"{t.output_tokens:,}", f"{t.cache_creation_tokens:,}",
             f"{t.cache_read_tokens:,}", _cost(t.cost_usd))
    widths = [max(len(row[i]) for row in (head, *lines, total)) for i in range(len(head))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])

    rule = "  ".join("-" * w for w in widths)
    text = [fmt(head), rule, *(fmt(r) for r in lines), rule, fmt(total), "",
            f"cost: estimated at list prices as of {report.prices_as_of}; days in {report.timezone}"]
    if report.unpriced:
        text.append(f"unpriced: {', '.join(report.unpriced)} (tokens counted, cost not included)")
    return "\n".join(text) + "\n"
