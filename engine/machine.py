"""This machine's name as messages, alert button data and metrics show it: ``[general] machine_name``
when set, else the host name. One function, so a button, a message and a scrape never disagree."""

from __future__ import annotations

import platform
import socket


def host_name() -> str:
    """The computer's name as its owner knows it (the network host name), or 'unknown'."""
    return platform.node() or socket.gethostname() or "unknown"


def machine_name(configured: str = "") -> str:
    """``configured`` (``[general] machine_name``) when it is not blank, else the host name."""
    return configured.strip() or host_name()
