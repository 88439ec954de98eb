"""What the tray tells the user after a menu action, as pure functions of the action's result.

The controller shows these lines as a notification where the backend has one, and always in the
icon's tooltip (``tray.menu.tooltip``'s ``feedback`` line) until the next action replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from engine.alerts.templates import check_label
from tray.menu import local_time

if TYPE_CHECKING:
    from engine.checks.service import CheckRun


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def checks_run(runs: Sequence[CheckRun]) -> str:
    """``Checks run: 3 alerts`` (``Stale applications: 1 alert`` for one check), with failures named."""
    found = sum(len(r.findings) for r in runs)
    failed = [r for r in runs if r.error]
    head = check_label(runs[0].check_name) if len(runs) == 1 else "Checks run"
    text = f"{head}: {plural(found, 'alert') if found else 'nothing found'}"
    if failed:
        text += "; failed: " + ", ".join(check_label(r.check_name) for r in failed)
    return text


def paused(until: datetime | None, tz: tzinfo | None, now: datetime) -> str:
    """``Paused until 15:00`` (``Alerts resumed`` when ``until`` is None)."""
    return "Alerts resumed" if until is None else f"Paused until {local_time(until, tz, now)}"


def snoozed(length: timedelta) -> str:
    hours = length.total_seconds() / 3600
    return f"Alert snoozed for {plural(int(hours), 'hour')}" if hours < 24 else \
        f"Alert snoozed for {plural(int(hours // 24), 'day')}"


def browser_failed(url: str, error: str | None = None) -> str:
    """Said when no browser opened the API docs: where to open them by hand."""
    why = f" ({error})" if error else ""
    return f"No web browser opened{why}. The API docs are at {url}"


def dashboard_browser_failed(error: str | None = None) -> str:
    """Said when no browser opened the dashboard (its login URL is good once: not repeated here)."""
    why = f" ({error})" if error else ""
    return f"No web browser opened{why}. Run `watchkeeper dashboard --no-browser` for a login URL"


def open_failed(path: str, error: str) -> str:
    return f"Could not open {path}: {error}"
