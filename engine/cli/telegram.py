"""CLI: `telegram setup` (verify the token, discover the chat id, store both; resumable) and
`telegram test` (send a test message now). The steps are in engine.channels.telegram.setup."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from engine.cli.context import CliContext


def register(sub: Any) -> None:
    """Add the telegram command group."""
    telegram = sub.add_parser("telegram", help="telegram setup | telegram test")
    tsub = telegram.add_subparsers(dest="telegram_command", required=True)
    setup = tsub.add_parser("setup", help="connect Watchkeeper to your Telegram bot")
    setup.add_argument("--token", help="bot token from @BotFather (else asked, or taken from config/env)")
    setup.add_argument("--wait", type=float, default=300.0, help="seconds to wait for your /start")
    setup.set_defaults(handler=cmd_setup)
    tsub.add_parser("test", help="send a test message now").set_defaults(handler=cmd_test)


def _print_step(step: Any) -> None:
    from engine.channels.telegram.setup import ONE_BOT_PER_MACHINE, ChatFound, ChatKnown, TokenVerified, WaitingForStart

    if isinstance(step, TokenVerified):
        print(f"Step 1/3: token verified: the bot is @{step.username}.")
        print(f"         {ONE_BOT_PER_MACHINE}")
    elif isinstance(step, ChatKnown):
        print(f"Step 2/3: chat already known ({step.chat_id}); skipping discovery.")
    elif isinstance(step, WaitingForStart):
        print(f"Step 2/3: open Telegram and send /start to @{step.username} (waiting up to {step.wait:.0f} s) ...")
    elif isinstance(step, ChatFound):
        print(f"         found chat {step.chat_id}.")


_FAILED = {"connect": "Telegram setup failed", "store": "could not store the settings",
           "confirm": "the confirmation message failed"}


def cmd_setup(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.channels.telegram.setup import SetupFailed, run_setup
    from engine.compose import config_sections

    token = args.token or ctx.config.telegram.token
    if not token:
        if not sys.stdin or not sys.stdin.isatty():
            print("watchkeeper: no bot token: pass --token, set WATCHKEEPER_TELEGRAM_TOKEN, or run in a terminal",
                  file=sys.stderr)
            return 2
        token = getpass.getpass("Bot token from @BotFather (input hidden): ").strip()
    try:
        result = run_setup(ctx.open_db(), ctx.config, ctx.paths.config_file, token, store_token=bool(args.token),
                           wait=args.wait, on_step=_print_step, template=_template(ctx),
                           sections=config_sections(ctx.units.channels))
    except SetupFailed as exc:
        print(f"watchkeeper: {_FAILED[exc.step]}: {exc}", file=sys.stderr)
        return 2 if exc.step == "connect" and exc.permanent else 1
    if not result.completed:
        print("No /start arrived in time. Run 'watchkeeper telegram setup' again; it resumes here.", file=sys.stderr)
        return 1
    print(f"Step 3/3: confirmation sent. Settings stored in {ctx.paths.config_file}.")
    _working(ctx)
    return 0


def cmd_test(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.alerts.templates import render
    from engine.channels.base import ChannelError
    from engine.channels.telegram import configured
    from engine.channels.telegram.setup import send_test

    if not configured(ctx.config):
        print("watchkeeper: Telegram is not configured (token and chat id); run 'watchkeeper telegram setup'",
              file=sys.stderr)
        return 2
    try:
        db = ctx.open_db()
        delivery = send_test(ctx.config, render(db, "test.title"), render(db, "test.body"))
    except ChannelError as exc:
        print(f"watchkeeper: test message failed: {exc}", file=sys.stderr)
        return 1
    print(f"Test message sent (message id {delivery.channel_message_id}).")
    _working(ctx)
    return 0


def _working(ctx: CliContext) -> None:
    """The channel just delivered: clear a broken state and resume its pending messages (a running
    instance is told to refresh, which wakes its workers)."""
    from engine.actions.delivery import mark_channel_working

    mark_channel_working(ctx.offline(), "telegram")


def _template(ctx: CliContext) -> str:
    """The config template a missing config.toml starts from."""
    from engine.compose import config_template

    return config_template(ctx.units)
