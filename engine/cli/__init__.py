"""The `watchkeeper` command line: the parser assembled from the registered command groups
(``engine.units.CLI_GROUPS``, one module each in this package) and ``main()``.

Exit codes: 0 ok, 1 failure, 2 bad usage or config, 3 another instance is already running.
The entry points (``python -m engine``, ``tray.main``) pass the units and, for the tray, the
frontend that ``run`` may show.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.cli.context import CliContext, ControlError
from engine.compose import Units, default_config, load_config
from engine.config import Config, ConfigError
from engine.paths import FolderError, Paths, resolve_paths
from engine.process.lifecycle import running_instance
from engine.store.db import StoreError

if TYPE_CHECKING:
    from engine.process.runner import Frontend

log = logging.getLogger("watchkeeper")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_RUNNING = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 already; keep its wording
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(units: Units) -> argparse.ArgumentParser:
    """The full command tree: each registered group adds its commands through register(subparsers).

    Handlers are set with ``set_defaults(handler=...)``; ``needs_config=False`` marks a command
    that loads the config itself, ``config_optional=True`` one that runs on the defaults (with a
    warning) when config.toml is broken (``"instance"``: only when an instance runs),
    ``one_shot=False`` the one that runs an instance (it logs to stderr too)."""
    parser = _Parser(prog="watchkeeper", description="Watchkeeper: a proactive personal operations agent.")
    parser.add_argument("--version", action="version", version=f"watchkeeper {__version__}")
    parser.add_argument("--home", metavar="DIR",
                        help="the folder for config, data and logs, as WATCHKEEPER_HOME=DIR does (start at "
                             "login registers it this way)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for register in units.cli_groups:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, units: Units, frontend: Frontend | None = None) -> int:
    """Run one command. ``frontend`` is what `run` shows when it is not --headless (None: headless).

    An environment problem (a folder that cannot be created, a read-only database) is one line on
    stderr and exit 1; output cut short by the reader (``| head``) ends the command quietly."""
    try:
        code = _run_command(argv, units=units, frontend=frontend)
        sys.stdout.flush()  # a closed pipe shows here, not as "Exception ignored" at exit
        return code
    except BrokenPipeError:
        # Nobody reads stdout any more: point it at devnull so the interpreter's last flush cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAIL
    except (FolderError, StoreError) as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return EXIT_FAIL


def _run_command(argv: Sequence[str] | None, *, units: Units, frontend: Frontend | None) -> int:
    parser = build_parser(units)
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:  # no command: `run`
        from engine.cli.instance import cmd_run

        args.handler, args.headless, args.kill_orphans, args.one_shot = cmd_run, False, False, False
    if args.home:  # before anything resolves a path; children of this process inherit it too
        os.environ["WATCHKEEPER_HOME"] = os.path.abspath(os.path.expanduser(args.home))
    paths = resolve_paths()
    if not getattr(args, "needs_config", True):
        config = None
    else:
        try:
            config = load_config(paths.config_file, units)
        except ConfigError as exc:
            if not _config_optional(args, paths):
                if not getattr(args, "one_shot", True):  # `run`: Task Scheduler and the tray discard stderr
                    from engine.process.runner import report_start_error

                    report_start_error(paths, f"config error: {exc}")
                print(f"watchkeeper: config error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            config = _fallback_config(paths, units, exc)
        for warning in config.warnings:
            print(f"watchkeeper: warning: {warning}", file=sys.stderr)
    if getattr(args, "one_shot", True) and config is not None:
        # One-shot commands log to the log file only; their output is what they print.
        from engine.delivery.service import channel_secrets
        from engine.logsetup import setup_logging

        paths.ensure(paths.log_dir)
        setup_logging(paths.log_file, config.general.log_level, secrets=channel_secrets(config, units.channels),
                      stderr=False)
        _warn_if_local_zone_unusable(config)
    ctx = CliContext(paths=paths, config=config or default_config(units), units=units, frontend=frontend)
    try:
        return int(args.handler(args, ctx))
    except (ControlError, StoreError) as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


def _config_optional(args: argparse.Namespace, paths: Paths) -> bool:
    """Whether this command runs despite a broken config.toml: ``config_optional=True`` always,
    ``config_optional="instance"`` when a running instance does the work with its own settings."""
    optional = getattr(args, "config_optional", False)
    return optional is True or (optional == "instance" and running_instance(paths) is not None)


def _fallback_config(paths: Paths, units: Units, error: ConfigError) -> Config:
    """The defaults for a command that does not need the new config (``config_optional``:
    status, stop, pause, resume, doctor), after one warning: a typo must not lock the user out."""
    using = "the running instance" if running_instance(paths) is not None else "defaults"
    print(f"watchkeeper: warning: config.toml {paths.config_file}: {error}; using {using}", file=sys.stderr)
    return default_config(units)


def _warn_if_local_zone_unusable(config: Config) -> None:
    """One stderr line when schedules fall back to UTC because the machine's zone (TZ) is unusable.

    `run` logs the same warning to stderr itself; here logging goes to the log file only.
    """
    from engine.timeutil import local_zone_problem

    problem = None if config.general.timezone else local_zone_problem()
    if problem:
        print(f"watchkeeper: warning: {problem}", file=sys.stderr)
