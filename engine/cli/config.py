"""CLI: `config path | show | validate`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli.context import CliContext, emit_json
from engine.compose import ensure_config_file, load_config
from engine.config import ConfigError, redacted, sources

EXIT_OK, EXIT_USAGE = 0, 2


def register(sub: Any) -> None:
    """Add the `config` group to the CLI."""
    config = sub.add_parser("config", help="config path | show | validate")
    config_sub = config.add_subparsers(dest="config_command", required=True, parser_class=type(config))
    config_sub.add_parser("path", help="where the config file is").set_defaults(handler=cmd_path, needs_config=False)
    show = config_sub.add_parser("show", help="effective settings, each with its source (secrets hidden)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    config_sub.add_parser("validate", help="check the config file").set_defaults(handler=cmd_validate,
                                                                                 needs_config=False)


def cmd_path(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.paths.ensure(ctx.paths.config_dir)
    ensure_config_file(ctx.paths.config_file, ctx.units)
    print(ctx.paths.config_file)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> int:
    data, origins = redacted(ctx.config), sources(ctx.config)
    if args.json:
        emit_json({"file": str(ctx.paths.config_file), "settings": data, "sources": origins})
        return EXIT_OK
    print(f"# {ctx.paths.config_file}")
    for section, values in data.items():
        if isinstance(values, dict) and section not in ("checks",):
            print(f"[{section}]")
            for key, value in values.items():
                print(f"{key} = {value!r}  # {origins[section][key]}")
            print()
        else:
            print(f"{section} = {values!r}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, ctx: CliContext) -> int:
    path = ctx.paths.config_file
    try:
        config = load_config(path, ctx.units)
    except ConfigError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"valid: {path}" if path.exists() else f"valid: no file at {path}, defaults apply")
    return EXIT_OK
