"""The tray menu and tooltip as pure functions of a Snapshot.

``build_menu(snapshot, startup_registered, callbacks)`` returns a tuple of ``MenuEntry`` values
(text, action, submenu, checked, enabled, default); ``menu_text`` renders it as an outline for
tests and docs; ``to_pystray`` converts it to a ``pystray.Menu`` (pystray is imported there
only), wrapping every action so an exception is logged instead of reaching pystray.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from engine.alerts.templates import check_label
from engine.health import Health

if TYPE_CHECKING:
    from engine.alerts.store import Alert
    from engine.snapshot import ChannelState, Snapshot

log = logging.getLogger(__name__)

TOOLTIP_MAX = 127  # Windows szTip is 128 UTF-16 units including the terminating NUL
LABEL_MAX = 60
MAX_ALERTS_LISTED = 15
SNOOZE_HOUR = timedelta(hours=1)
SNOOZE_DAY = timedelta(days=1)
PAUSE_CHOICES = (("1 hour", timedelta(hours=1)), ("4 hours", timedelta(hours=4)))
MORNING_HOUR = 8


class MenuCallbacks(Protocol):
    """What the menu's items call; the tray controller implements it (tests use a recorder)."""

    def show_status(self) -> None: ...
    def acknowledge(self, alert_id: int) -> None: ...
    def snooze(self, alert_id: int, duration: timedelta) -> None: ...
    def run_check(self, name: str) -> None: ...
    def run_all_checks(self) -> None: ...
    def pause_for(self, duration: timedelta) -> None: ...
    def pause_until_morning(self) -> None: ...
    def resume(self) -> None: ...
    def archive_now(self) -> None: ...
    def open_log(self) -> None: ...
    def open_data_folder(self) -> None: ...
    def open_dashboard(self) -> None: ...
    def open_api_docs(self) -> None: ...
    def edit_settings(self) -> None: ...
    def reload_settings(self) -> None: ...
    def toggle_startup(self) -> None: ...
    def quit(self) -> None: ...


@dataclass(frozen=True)
class MenuEntry:
    """One menu item; ``separator`` entries carry nothing else."""

    text: str = ""
    action: Callable[[], None] | None = None
    submenu: tuple[MenuEntry, ...] | None = None
    checked: bool | None = None
    enabled: bool = True
    default: bool = False
    separator: bool = False


SEPARATOR = MenuEntry(separator=True)


# -- text helpers -----------------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_utf16(text: str, limit: int = TOOLTIP_MAX) -> str:
    """``text`` cut so it takes at most ``limit`` UTF-16 code units (what Windows counts)."""
    if _utf16_len(text) <= limit:
        return text
    while text and _utf16_len(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def local_time(value: datetime | None, tz: tzinfo | None, now: datetime) -> str:
    """``HH:MM CET`` in ``tz`` today, else the full ``2026-12-01 14:05 CET`` (engine.timeutil.human_time);
    "never" for None."""
    from engine.timeutil import human_time

    if value is None:
        return "never"
    local, local_now = value.astimezone(tz), now.astimezone(tz)
    full = human_time(value, local.tzinfo)
    return full.split(" ", 1)[1] if local.date() == local_now.date() else full


def tomorrow_at(now: datetime, tz: tzinfo | None, hour: int = MORNING_HOUR) -> datetime:
    """The next calendar day's ``hour``:00 in ``tz`` (DST-aware), as an aware datetime."""
    local = now.astimezone(tz)
    day = local.date() + timedelta(days=1)
    target = datetime.combine(day, time(hour, 0))
    return target.replace(tzinfo=local.tzinfo) if tz is None else target.replace(tzinfo=tz)


def alert_count_text(count: int) -> str:
    return f"{count} open alert" + ("" if count == 1 else "s")


def channels_text(channels: Sequence[ChannelState]) -> str:
    """``toast ok, telegram broken`` or ``none``."""
    if not channels:
        return "none"
    return ", ".join(f"{c.name} {c.state}" for c in channels)


def state_text(snap: Snapshot, tz: tzinfo | None, now: datetime) -> str:
    """``ATTENTION``, ``PAUSED until 15:00``, ``DEGRADED (heartbeat stale)``..."""
    state = snap.state
    label = state.value.upper()
    if state is Health.PAUSED:
        if snap.paused_until is not None:
            return f"{label} until {local_time(snap.paused_until, tz, now)}"
        return f"{label} (quiet hours)"
    if state is Health.DEGRADED and snap.health.reasons:
        return f"{label} ({snap.health.reasons[0]})"
    return label


def status_line(snap: Snapshot, tz: tzinfo | None, now: datetime) -> str:
    """The first menu item: state and open alerts."""
    text = f"Watchkeeper: {state_text(snap, tz, now)}"
    if snap.alerts.attention:
        text += f" - {alert_count_text(snap.alerts.attention)}"
    return shorten(text, LABEL_MAX)


def tooltip(snap: Snapshot, tz: tzinfo | None, now: datetime, feedback: str | None = None) -> str:
    """State, what the last menu action did (``feedback``), open alert count, last check time,
    channel status; at most 127 UTF-16 units."""
    lines = [
        f"Watchkeeper: {state_text(snap, tz, now)}",
        *([feedback] if feedback else []),
        alert_count_text(snap.alerts.attention),
        f"Last check: {local_time(snap.last_check_at, tz, now)}",
        f"Channels: {channels_text(snap.channels)}",
    ]
    return fit_utf16("\n".join(lines))


def status_message(snap: Snapshot, tz: tzinfo | None, now: datetime) -> str:
    """The longer text shown by the default (left-click) action."""
    lines = [snap.health.summary, alert_count_text(snap.alerts.attention)]
    lines += [f"- {alert_label(a)}" for a in snap.open_alerts[:5]]
    lines.append(f"Last check: {local_time(snap.last_check_at, tz, now)}")
    lines.append(f"Channels: {channels_text(snap.channels)}")
    lines += [f"{c.reason}." for c in snap.channels if c.state == "standby" and c.reason]  # a bot shared
    return fit_utf16("\n".join(lines), 255)


def check_title(name: str) -> str:
    """What the menu calls a check: its human name (``Stale applications``), never the config key."""
    return check_label(name)


def alert_label(alert: Alert) -> str:
    return shorten(f"{check_title(alert.check_name or '?')}: {alert.title or alert.subject or ''}", LABEL_MAX)


# -- the menu ------------------------------------------------------------------------------------------


def _alerts_menu(snap: Snapshot, cb: MenuCallbacks) -> MenuEntry:
    alerts = snap.open_alerts
    title = f"Open alerts ({len(alerts)})"
    if not alerts:
        return MenuEntry(title, enabled=False)
    entries = []
    for alert in alerts[:MAX_ALERTS_LISTED]:
        alert_id = alert.id
        entries.append(MenuEntry(alert_label(alert), submenu=(
            MenuEntry("Acknowledge", partial(cb.acknowledge, alert_id)),
            MenuEntry("Snooze 1 hour", partial(cb.snooze, alert_id, SNOOZE_HOUR)),
            MenuEntry("Snooze 1 day", partial(cb.snooze, alert_id, SNOOZE_DAY)),
        )))
    if len(alerts) > MAX_ALERTS_LISTED:
        entries.append(MenuEntry(f"... and {len(alerts) - MAX_ALERTS_LISTED} more", enabled=False))
    return MenuEntry(title, submenu=tuple(entries))


def _checks_menu(snap: Snapshot, cb: MenuCallbacks) -> MenuEntry:
    scheduled = {j.name for j in snap.jobs if j.kind == "check"}
    names = list(dict.fromkeys([*snap.checks, *sorted(scheduled)]))
    entries = [MenuEntry(check_title(name), partial(cb.run_check, name), enabled=name in scheduled)
               for name in names]
    entries += [SEPARATOR, MenuEntry("All checks", cb.run_all_checks, enabled=bool(scheduled))]
    return MenuEntry("Run check now", submenu=tuple(entries))


def _pause_menu(snap: Snapshot, cb: MenuCallbacks) -> MenuEntry:
    entries = [MenuEntry(label, partial(cb.pause_for, duration)) for label, duration in PAUSE_CHOICES]
    entries.append(MenuEntry(f"Until tomorrow {MORNING_HOUR:02d}:00", cb.pause_until_morning))
    entries += [SEPARATOR, MenuEntry("Resume", cb.resume, enabled=snap.paused_until is not None)]
    return MenuEntry("Pause alerts", submenu=tuple(entries))


def build_menu(snap: Snapshot, startup_registered: bool | None, cb: MenuCallbacks, *,
               tz: tzinfo | None = None, now: datetime | None = None) -> tuple[MenuEntry, ...]:
    """The whole tray menu for ``snap``.

    ``startup_registered`` is the real OS registration (None: start at login is unavailable, so
    the checkbox is shown unchecked and disabled).
    """
    now = now or datetime.now().astimezone()
    has_archive = any(j.name == "archive" for j in snap.jobs)
    items: list[MenuEntry] = [
        MenuEntry(status_line(snap, tz, now), cb.show_status, default=True),
        SEPARATOR,
        _alerts_menu(snap, cb),
        _checks_menu(snap, cb),
        _pause_menu(snap, cb),
        MenuEntry("Archive conversations now", cb.archive_now, enabled=has_archive),
        SEPARATOR,
        MenuEntry("Open log file", cb.open_log),
        MenuEntry("Open data folder", cb.open_data_folder),
    ]
    if snap.api_url:
        items.append(MenuEntry("Open dashboard", cb.open_dashboard))
        items.append(MenuEntry("Open API docs", cb.open_api_docs))
    items += [
        MenuEntry("Edit settings", cb.edit_settings),
        MenuEntry("Reload settings", cb.reload_settings),
        SEPARATOR,
        MenuEntry("Start at login", cb.toggle_startup, checked=bool(startup_registered),
                  enabled=startup_registered is not None),
        SEPARATOR,
        MenuEntry("Quit", cb.quit),
    ]
    return tuple(items)


def menu_text(entries: Sequence[MenuEntry], indent: int = 0) -> str:
    """An outline of the menu: ``*`` default, ``[x]``/``[ ]`` checkboxes, ``(disabled)``."""
    lines: list[str] = []
    pad = "    " * indent
    for entry in entries:
        if entry.separator:
            lines.append(pad + "----")
            continue
        mark = "" if entry.checked is None else ("[x] " if entry.checked else "[ ] ")
        text = pad + ("* " if entry.default else "") + mark + entry.text
        if entry.submenu is not None:
            text += " >"
        if not entry.enabled:
            text += " (disabled)"
        lines.append(text)
        if entry.submenu:
            lines.append(menu_text(entry.submenu, indent + 1))
    return "\n".join(lines)


def find_entry(entries: Sequence[MenuEntry], *path: str) -> MenuEntry:
    """The entry reached by following labels (a label may be a prefix); KeyError if absent."""
    current: Sequence[MenuEntry] = entries
    found: MenuEntry | None = None
    for label in path:
        found = next((e for e in current if not e.separator and (e.text == label or e.text.startswith(label))), None)
        if found is None:
            raise KeyError(f"no menu entry {label!r} in {[e.text for e in current]}")
        current = found.submenu or ()
    if found is None:
        raise KeyError("empty path")
    return found


def keyboard_path(entries: Sequence[MenuEntry], *path: str) -> list[str]:
    """xdotool key names that reach ``path`` in a popped-up GTK menu (nothing selected at first).

    GTK skips separators and disabled items; ``Right`` opens a submenu on its first enabled item.
    """
    keys: list[str] = []
    current: Sequence[MenuEntry] = entries
    for depth, label in enumerate(path):
        selectable = [e for e in current if not e.separator and e.enabled]
        target = find_entry(current, label)
        index = selectable.index(target)
        keys += ["Down"] * (index + 1) if depth == 0 else ["Down"] * index
        if depth < len(path) - 1:
            keys.append("Right")
        current = target.submenu or ()
    keys.append("Return")
    return keys


def safe_action(action: Callable[[], None], label: str) -> Callable[[], None]:
    """``action`` wrapped so an exception is logged, never raised into pystray's loop."""

    def run() -> None:
        try:
            action()
        except Exception:
            log.exception("tray menu action %r failed", label)

    return run


def to_pystray(entries: Sequence[MenuEntry]) -> Any:
    """A ``pystray.Menu`` for ``entries`` (imports pystray: call only where a backend exists)."""
    import pystray

    def convert(entry: MenuEntry) -> Any:
        if entry.separator:
            return pystray.Menu.SEPARATOR
        if entry.submenu is not None:
            return pystray.MenuItem(entry.text, pystray.Menu(*[convert(e) for e in entry.submenu]),
                                    enabled=entry.enabled and bool(entry.submenu))
        return pystray.MenuItem(entry.text, _item_action(entry), checked=_item_checked(entry),
                                enabled=entry.enabled, default=entry.default)

    return pystray.Menu(*[convert(e) for e in entries])


def _item_action(entry: MenuEntry) -> Callable[[Any, Any], None] | None:
    """pystray calls actions as ``action(icon, item)`` (it inspects the argument count)."""
    if entry.action is None:
        return None
    run = safe_action(entry.action, entry.text)

    def action(icon: Any, item: Any) -> None:
        run()

    return action


def _item_checked(entry: MenuEntry) -> Callable[[Any], bool] | None:
    if entry.checked is None:
        return None
    value = entry.checked

    def checked(item: Any) -> bool:
        return value

    return checked
