"""``watchkeeper api token [--read-only | --scrape] [--rotate]``: print the local HTTP API token."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``api`` command to the CLI."""
    api = subparsers.add_parser("api", help="the local HTTP API: api token [--read-only | --scrape] [--rotate]")
    sub = api.add_subparsers(dest="api_command", metavar="COMMAND")
    api.set_defaults(handler=_usage(api))
    token = sub.add_parser("token", help="print the API token (created on first use)")
    which = token.add_mutually_exclusive_group()
    which.add_argument("--read-only", action="store_true",
                       help="the second token, good for GET requests only (created when first asked for)")
    which.add_argument("--scrape", action="store_true",
                       help="the metrics token, good for GET /metrics only (created when first asked for)")
    token.add_argument("--rotate", action="store_true",
                       help="replace the token with a new one (the running instance picks it up at once)")
    token.set_defaults(handler=cmd_token)


def _usage(parser: argparse.ArgumentParser) -> Any:
    def handler(args: argparse.Namespace, ctx: Any) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def cmd_token(args: argparse.Namespace, ctx: Any) -> int:
    from engine.api.tokens import ensure_token

    ctx.paths.ensure()
    print(ensure_token(ctx.paths, read_only=args.read_only, rotate=args.rotate, scrape=args.scrape))
    if not ctx.config.api.enabled:
        print("note: the API is disabled in config ([api] enabled = false)", file=sys.stderr)
    return 0
