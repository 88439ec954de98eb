"""CLI: `config path | show | validate`."""

from __future__ import annotations

import argparse
import datetime
import math
import re
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
    print("\n".join(settings_toml(data, origins)))
    return EXIT_OK


def settings_toml(data: dict[str, Any], origins: dict[str, dict[str, Any]]) -> list[str]:
    """The effective settings as TOML lines that read back as ``data`` (a block can be pasted into
    config.toml), each key ending with a comment naming its source."""
    lines: list[str] = []
    for section, values in data.items():
        if section == "checks":
            for name, table in values.items():
                lines += [f"[checks.{toml_key(name)}]", *_key_lines(table, origins.get("checks", {}).get(name, {}),
                                                                    "file"), ""]
        elif section == "user_checks":
            for table in values:
                lines += ["[[user_checks]]", *_key_lines(table, {}, "file"), ""]
        else:
            lines += [f"[{section}]", *_key_lines(values, origins.get(section, {}), "default"), ""]
    return lines


def _key_lines(values: dict[str, Any], origins: dict[str, str], origin: str) -> list[str]:
    return [f"# {key} is not set  # {origins.get(key, origin)}" if value is None
            else f"{toml_key(key)} = {toml_value(value)}  # {origins.get(key, origin)}"
            for key, value in values.items()]


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, else a quoted string."""
    return key if _BARE_KEY.fullmatch(key) else _basic_string(key)


def toml_value(value: Any) -> str:
    """One value as TOML: strings literal ('...') when they can be (Windows paths stay readable)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        if "'" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            return _basic_string(value)
        return f"'{value}'"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return _basic_string(str(value))


def _basic_string(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                         for c in text) + '"'


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
