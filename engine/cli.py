"""The `watchkeeper` command. Exit codes: 0 ok, 1 failure, 2 bad usage or config,
3 another instance is already running."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine import __version__
from engine.cli_context import CliContext, ControlError, emit_json
from engine.config import ConfigError, ensure_config_file, load_config, redacted
from engine.paths import resolve_paths
from engine.store.db import StoreError

log = logging.getLogger("watchkeeper")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_RUNNING = 0, 1, 2, 3

Handler = Callable[[argparse.Namespace, CliContext], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 already; keep its wording
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full command tree; units add theirs through register(subparsers)."""
    parser = _Parser(prog="watchkeeper", description="Watchkeeper: a proactive personal operations agent.")
    parser.add_argument("--version", action="version", version=f"watchkeeper {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="start the tray app (or headless with --headless)")
    _run_args(run)
    parser.set_defaults(handler=_cmd_run, headless=False, kill_orphans=False)

    status = sub.add_parser("status", help="the running instance, health and jobs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_cmd_status)

    stop = sub.add_parser("stop", help="stop the running instance gracefully")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to exit")
    stop.set_defaults(handler=_cmd_stop)

    doctor = sub.add_parser("doctor", help="diagnose lock, database, scheduler and config")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=_cmd_doctor)

    config = sub.add_parser("config", help="config path | show | validate")
    config_sub = config.add_subparsers(dest="config_command", required=True, parser_class=_Parser)
    config_sub.add_parser("path", help="where the config file is").set_defaults(handler=_cmd_config_path)
    show = config_sub.add_parser("show", help="effective settings (secrets hidden)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_cmd_config_show)
    config_sub.add_parser("validate", help="check the config file").set_defaults(handler=_cmd_config_validate)

    for register in _unit_registrars():
        register(sub)
    return parser


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headless", action="store_true", help="run without a tray icon")
    p.add_argument("--kill-orphans", action="store_true",
                   help="end other watchkeeper processes for this data folder that do not hold the lock")


def _unit_registrars() -> list[Callable[[Any], None]]:
    """Command groups contributed by units (explicit list: PyInstaller must see the imports)."""
    from engine.archive.commands import register as archive_register
    from engine.checks.commands import register as checks_register
    from engine.delivery.commands import register as telegram_register

    registrars: list[Callable[[Any], None]] = [checks_register, archive_register, telegram_register]
    try:
        from engine.api.commands import register as api_register
        registrars.append(api_register)
    except ImportError:
        pass
    try:
        from engine.startup_commands import register as startup_register
        registrars.append(startup_register)
    except ImportError:
        pass
    return registrars


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `watchkeeper` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    paths = resolve_paths()
    if args.handler is _cmd_config_validate or args.handler is _cmd_config_path:
        config = None
    else:
        try:
            config = load_config(paths.config_file)
        except ConfigError as exc:
            print(f"watchkeeper: config error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        for warning in config.warnings:
            print(f"watchkeeper: warning: {warning}", file=sys.stderr)
    from engine.config import Config

    if args.handler is not _cmd_run and config is not None:
        # One-shot commands log to the log file only; their output is what they print.
        from engine.logsetup import setup_logging

        setup_logging(paths.log_file, config.general.log_level, secrets=[config.telegram.token], stderr=False)
        _warn_if_local_zone_unusable(config)
    ctx = CliContext(paths=paths, config=config or Config())
    try:
        return int(args.handler(args, ctx))
    except (ControlError, StoreError) as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


def _warn_if_local_zone_unusable(config: Any) -> None:
    """One stderr line when schedules fall back to UTC because the machine's zone (TZ) is unusable.

    `run` logs the same warning to stderr itself; here logging goes to the log file only.
    """
    from engine.timeutil import local_zone_problem

    problem = None if config.general.timezone else local_zone_problem()
    if problem:
        print(f"watchkeeper: warning: {problem}", file=sys.stderr)


# -- run -----------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.runner import run_instance

    return run_instance(ctx.paths, ctx.config, headless=args.headless, kill_orphans=args.kill_orphans)


# -- status / stop / doctor ----------------------------------------------------------------------


def _cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.status import collect_status, format_status

    data = collect_status(ctx)
    if args.json:
        emit_json(data)
    else:
        print(format_status(data))
    return EXIT_OK if data["running"] else EXIT_FAIL


def _cmd_stop(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.runner import stop_instance

    return stop_instance(ctx, timeout=args.timeout)


def _cmd_doctor(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.doctor import diagnose

    findings = diagnose(ctx)
    if args.json:
        emit_json([f.__dict__ for f in findings])
    else:
        for f in findings:
            print(f"{'OK     ' if f.ok else 'PROBLEM'} {f.area}: {f.message}")
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAIL


# -- config --------------------------------------------------------------------------------------


def _cmd_config_path(args: argparse.Namespace, ctx: CliContext) -> int:
    ensure_config_file(ctx.paths.config_file)
    print(ctx.paths.config_file)
    return EXIT_OK


def _cmd_config_show(args: argparse.Namespace, ctx: CliContext) -> int:
    data = redacted(ctx.config)
    if args.json:
        emit_json({"file": str(ctx.paths.config_file), "settings": data})
        return EXIT_OK
    print(f"# {ctx.paths.config_file}")
    for section, values in data.items():
        if isinstance(values, dict) and section not in ("checks",):
            print(f"[{section}]")
            for key, value in values.items():
                print(f"{key} = {value!r}")
            print()
        else:
            print(f"{section} = {values!r}")
    return EXIT_OK


def _cmd_config_validate(args: argparse.Namespace, ctx: CliContext) -> int:
    path = ctx.paths.config_file
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"valid: {path}" if path.exists() else f"valid: no file at {path}, defaults apply")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
