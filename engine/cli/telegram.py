"""CLI: `telegram setup` (verify the token, discover the chat id, store both; resumable) and
`telegram test` (send a test message now)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from engine.cli.context import CliContext
from engine.config import ConfigError, set_config_values
from engine.timeutil import to_db, utcnow


def register(sub: Any) -> None:
    """Add the telegram command group."""
    telegram = sub.add_parser("telegram", help="telegram setup | telegram test")
    tsub = telegram.add_subparsers(dest="telegram_command", required=True)
    setup = tsub.add_parser("setup", help="connect Watchkeeper to your Telegram bot")
    setup.add_argument("--token", help="bot token from @BotFather (else asked, or taken from config/env)")
    setup.add_argument("--wait", type=float, default=300.0, help="seconds to wait for your /start")
    setup.set_defaults(handler=cmd_setup)
    tsub.add_parser("test", help="send a test message now").set_defaults(handler=cmd_test)


def _record(ctx: CliContext, key: str, value: str) -> None:
    ctx.open_db().execute_sql(
        "INSERT INTO onboarding_state (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (f"telegram.{key}", value, to_db(utcnow())))


def _recorded(ctx: CliContext, key: str) -> str | None:
    row = ctx.open_db().execute_sql("SELECT value FROM onboarding_state WHERE key = ?",
                                    (f"telegram.{key}",)).fetchone()
    return row[0] if row else None


def _channel(ctx: CliContext, token: str, chat_id: str | None) -> Any:
    from engine.channels.telegram import TelegramChannel

    t = ctx.config.telegram
    return TelegramChannel(token, chat_id, base_url=t.api_url or None, timeout=t.timeout_seconds)


def cmd_setup(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.channels.base import ChannelError

    token = args.token or ctx.config.telegram.token
    if not token:
        if not sys.stdin or not sys.stdin.isatty():
            print("watchkeeper: no bot token: pass --token, set WATCHKEEPER_TELEGRAM_TOKEN, or run in a terminal",
                  file=sys.stderr)
            return 2
        token = getpass.getpass("Bot token from @BotFather (input hidden): ").strip()
    chat_id = ctx.config.telegram.chat_id or _recorded(ctx, "chat_id")
    channel = _channel(ctx, token, chat_id)
    try:
        me = channel.get_me()
        print(f"Step 1/3: token verified: the bot is @{me.username}.")
        _record(ctx, "token_verified", to_db(utcnow()))
        _record(ctx, "bot_username", me.username or "")
        if args.token:
            set_config_values(ctx.paths.config_file, "telegram", {"token": token}, template=_template(ctx))
        if chat_id:
            print(f"Step 2/3: chat already known ({chat_id}); skipping discovery.")
        else:
            print(f"Step 2/3: open Telegram and send /start to @{me.username} (waiting up to {args.wait:.0f} s) ...")
            found = channel.discover_chat_id(args.wait)
            if found is None:
                print("No /start arrived in time. Run 'watchkeeper telegram setup' again; it resumes here.",
                      file=sys.stderr)
                return 1
            chat_id = str(found)
            _record(ctx, "chat_id", chat_id)
            print(f"         found chat {chat_id}.")
        set_config_values(ctx.paths.config_file, "telegram", {"chat_id": str(chat_id), "enabled": True},
                          template=_template(ctx))
    except ChannelError as exc:
        print(f"watchkeeper: Telegram setup failed: {exc}", file=sys.stderr)
        return 2 if exc.permanent else 1
    except ConfigError as exc:
        print(f"watchkeeper: could not store the settings: {exc}", file=sys.stderr)
        return 1
    finally:
        channel.close()
    channel = _channel(ctx, token, chat_id)
    try:
        from engine.channels.base import OutgoingMessage

        channel.notify(OutgoingMessage("Watchkeeper is connected", "Alerts will arrive here.", "info"))
    except ChannelError as exc:
        print(f"watchkeeper: the confirmation message failed: {exc}", file=sys.stderr)
        return 1
    finally:
        channel.close()
    _record(ctx, "completed", to_db(utcnow()))
    print(f"Step 3/3: confirmation sent. Settings stored in {ctx.paths.config_file}.")
    ctx.send("refresh")
    return 0


def cmd_test(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.alerts.templates import render
    from engine.channels.base import ChannelError, OutgoingMessage
    from engine.delivery.service import telegram_configured

    t = ctx.config.telegram
    if not telegram_configured(ctx.config):
        print("watchkeeper: Telegram is not configured (token and chat id); run 'watchkeeper telegram setup'",
              file=sys.stderr)
        return 2
    channel = _channel(ctx, t.token, t.chat_id)
    try:
        db = ctx.open_db()
        delivery = channel.notify(OutgoingMessage(render(db, "test.title"), render(db, "test.body"), "info"))
    except ChannelError as exc:
        print(f"watchkeeper: test message failed: {exc}", file=sys.stderr)
        return 1
    finally:
        channel.close()
    print(f"Test message sent (message id {delivery.channel_message_id}).")
    return 0


def _template(ctx: CliContext) -> str:
    """The config template a missing config.toml starts from."""
    from engine.compose import config_template

    return config_template(ctx.units.check_kinds)
