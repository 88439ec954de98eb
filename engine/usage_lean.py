"""`watchkeeper usage` answered without the composition root: the lean path of a read-only query.

The full CLI (engine.cli with engine.units) imports every unit -- FastAPI, python-telegram-bot, APScheduler --
to validate the config and migrate the database; that is most of a `usage` call's time. :func:`answer` runs the
command with engine.config, the archive's tables opened read-only and engine.actions.usage only, when it can
guarantee the full CLI's result; otherwise it returns None and the caller runs the full CLI, which then gives
the same output, errors and exit codes as always. `usage` reads only the built-in sections of config.toml
([general] timezone, [archive] usage_prices), validated as engine.config does; a channel's or check's section
and variable are left to the commands that use them, so a broken [telegram] section does not stop `usage`. It
steps aside for: another command, ``--help``, arguments argparse refuses, a config.toml that does not read as
TOML, a built-in section or variable refused or warned about, a database that does not exist yet or whose archive
migrations are pending, and any database error (the database is read with sqlite3, read-only, no peewee).
This module lives outside engine.cli because importing that package loads the full CLI.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

USAGE_HELP = "token usage and estimated cost (Claude Code, Codex) from the archive"
_GROUPS = ("day", "week", "month", "session", "project", "model")  # engine.archive.usage.GROUPS (checked by a test)
_AGENTS = ("claude", "codex")
# The archive's last migration (engine.archive.schema.MIGRATIONS[-1], checked by a test): applied in order, so all
# of them are when it is; otherwise the full CLI migrates first.
LATEST_ARCHIVE_MIGRATION = "archive_0009_usage_buckets"


def add_usage_arguments(p: argparse.ArgumentParser) -> None:
    """The ``usage`` command's options (the full CLI's parser and this lean one share them)."""
    p.add_argument("--by", choices=_GROUPS, default="day", help="group by (default: day, local to the zone)")
    p.add_argument("--since", metavar="DATE", help="first local day counted, YYYY-MM-DD")
    p.add_argument("--until", metavar="DATE", help="last local day counted, YYYY-MM-DD")
    p.add_argument("--agent", choices=_AGENTS, help="one agent only (default: both)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


class _Refused(Exception):
    """The lean parser met something it leaves to the full CLI."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _Refused(message)


def _parse(argv: Sequence[str]) -> argparse.Namespace | None:
    """The ``usage`` arguments (with ``home``), or None when argv is not a plain ``usage`` call."""
    if not argv or any(a in ("-h", "--help", "--version") for a in argv):
        return None
    parser = _Parser(prog="watchkeeper", add_help=False, allow_abbrev=False)
    parser.add_argument("--home")
    parser.add_argument("command")
    add_usage_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except _Refused:
        return None
    return args if args.command == "usage" else None


def _core_config(path: Any) -> Any:
    """The config with its built-in sections only, validated as the full CLI validates them; None when the full
    CLI must answer (the file does not read as TOML, a built-in section or variable is refused or warned about).
    The channels' and checks' sections and variables are the full commands' business: `usage` ignores them."""
    import tomllib

    from engine import config as config_file

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None  # the full CLI reports it
    core = {name: value for name, value in raw.items() if name in config_file.SECTIONS}
    owned = tuple(config_file.env_variable(name, "") for name in config_file.SECTIONS)
    env = {variable: text for variable, text in os.environ.items() if variable.startswith(owned)}
    try:
        config = config_file.parse_config(core, env, source=path if path.exists() else None)
    except config_file.ConfigError:
        return None
    return None if config.warnings else config


def _open_archive(db_file: Any) -> sqlite3.Connection | None:
    """The database read-only, or None when it is missing or its archive migrations are pending."""
    if not db_file.is_file():
        return None
    db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)
    try:
        db.execute("PRAGMA query_only = 1")
        done = db.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (LATEST_ARCHIVE_MIGRATION,)).fetchone()
    except BaseException:
        db.close()
        raise
    if done is None:
        db.close()
        return None
    return db


def answer(argv: Sequence[str]) -> int | None:
    """Run ``usage`` lean and return its exit code; None when the full CLI must run it (nothing printed)."""
    args = _parse(argv)
    if args is None:
        return None
    if args.home:
        os.environ["WATCHKEEPER_HOME"] = os.path.abspath(os.path.expanduser(args.home))
    from engine.paths import resolve_paths

    paths = resolve_paths()
    config = _core_config(paths.config_file)
    if config is None:
        return None
    import orjson

    from engine.actions import usage
    from engine.actions.errors import Invalid

    try:
        db = _open_archive(paths.db_file)
        if db is None:
            return None
        try:
            report = usage.usage_for(db, config, group_by=args.by, since=args.since, until=args.until,
                                     agent=args.agent)
        finally:
            db.close()
    except Invalid as exc:
        _warn_if_local_zone_unusable(config)
        sys.stderr.write(f"{exc}\n")
        return 2
    except (sqlite3.Error, OSError):
        return None  # the full CLI opens it the usual way and reports what is wrong
    _warn_if_local_zone_unusable(config)
    text = orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n" if args.json else render(report)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # as the full CLI: nobody reads stdout any more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _warn_if_local_zone_unusable(config: Any) -> None:
    from engine.timeutil import local_zone_problem

    problem = None if config.general.timezone else local_zone_problem()
    if problem:
        print(f"watchkeeper: warning: {problem}", file=sys.stderr)


COLUMNS = ("input", "output", "cache write", "cache read", "cost USD")


def _cost(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value >= 1 or value == 0 else f"{value:.4f}"


def render(report: Any) -> str:
    """The report (engine.actions.usage.UsageReport) as an aligned text table: one row per group, a totals
    row, the price date, unpriced models."""
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
