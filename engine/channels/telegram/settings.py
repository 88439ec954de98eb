"""The [telegram] config section and the environment variables that override it."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import Config, _one_of, between, opt

__all__ = ["ENV", "TelegramSettings", "settings"]


@dataclass
class TelegramSettings:
    enabled: bool = opt(True, "Send alerts to Telegram when a token and chat id are set.")
    token: str = opt(
        "", "Bot token from @BotFather (or env WATCHKEEPER_TELEGRAM_TOKEN). Never printed.", secret=True
    )
    chat_id: str = opt("", "Chat to send to and obey, as text or a number (or env WATCHKEEPER_TELEGRAM_CHAT_ID).",
                       number_as_text=True)
    api_url: str = opt("", "Bot API base URL; empty for Telegram's (env WATCHKEEPER_TELEGRAM_API_URL).")
    timeout_seconds: float = opt(10.0, "Network timeout for one Bot API call.", between(0.1, 600, "seconds"))
    name_machine: str = opt("auto", "Start each message with this machine's name ([general] machine_name): auto (once "
                            "another machine is seen on this bot), always or never.",
                            _one_of("auto", "always", "never"))


ENV = {
    "WATCHKEEPER_TELEGRAM_TOKEN": "token",
    "WATCHKEEPER_TELEGRAM_CHAT_ID": "chat_id",
    "WATCHKEEPER_TELEGRAM_API_URL": "api_url",
}
"""Environment variable -> setting (a non-empty variable wins over config.toml)."""


def settings(config: Config) -> TelegramSettings:
    """The [telegram] section of ``config``."""
    return config.section(TelegramSettings)
