"""Message wording: templates with defaults in code, overridable per key and per check in the
personality_config table (keys ``template.<name>`` and ``template.<name>.<check>``).

Titles say what happened, not which check found it: one alert is titled by itself ("No activity
in session 'X' for 45 min"), several by a per-check default ("3 applications with no answer");
``{label}`` (the check's name in words) is only the fallback for checks without one (user checks)."""

from __future__ import annotations

from typing import Any

from peewee import SqliteDatabase

DEFAULTS: dict[str, str] = {
    "alert.title": "{label}: {count} need{s} attention",
    "alert.title.single": "{title}",
    "alert.line": "• {title}",
    "alert.detail": "  {detail}",
    "alert.more": "… and {count} more",
    "recovery.title": "Resolved: {title}",
    "recovery.body": "Resolved after {duration}.",
    "digest.title": "While it was quiet: {count} alert{plural}",
    "offline.title": "While you were offline: {count} message{plural}",
    "test.title": "Watchkeeper test message",
    "test.body": "If you can read this, alerts reach you here.",
}


# Code defaults per check (``<name>.<check>``), below the user's per-check and general templates.
CHECK_DEFAULTS: dict[str, str] = {
    "alert.title.stale_applications": "{count} applications with no answer",
    "alert.title.session_crash": "{count} sessions with no activity",
    "alert.title.goal_staleness": "{count} goals with no progress",
    "alert.title.disk_space": "{count} volumes low on disk space",
    "alert.title.endpoint": "{count} web endpoints down or with an expiring certificate",
    "alert.title.listening_ports": "{count} new programs listening on a port",
    "alert.title.autostart_entries": "{count} new programs starting at login",
}


class _Safe(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def check_label(check_name: str) -> str:
    """'stale_applications' -> 'Stale applications'."""
    return check_name.replace("_", " ").capitalize()


def user_template(db: SqliteDatabase | None, name: str, check: str | None = None) -> str | None:
    """The user's own template for ``name`` (per check first), or None."""
    if db is None:
        return None
    keys = [f"template.{name}.{check}"] if check else []
    keys.append(f"template.{name}")
    for key in keys:
        row = db.execute_sql("SELECT value FROM personality_config WHERE key = ?", (key,)).fetchone()
        if row and row[0]:
            return str(row[0])
    return None


def template(db: SqliteDatabase | None, name: str, check: str | None = None) -> str:
    """The user's template for ``name`` (per check first), else the code's per check, else the default."""
    own = user_template(db, name, check)
    if own is not None:
        return own
    return CHECK_DEFAULTS.get(f"{name}.{check}", DEFAULTS[name]) if check else DEFAULTS[name]


def alert_title(db: SqliteDatabase | None, check: str, count: int, **values: Any) -> str:
    """The title of a grouped alert notification. One alert: the user's ``alert.title.single``,
    else their ``alert.title`` (an override keeps working), else the alert's own title."""
    name = "alert.title"
    if count == 1 and (user_template(db, "alert.title.single", check) is not None
                       or user_template(db, "alert.title", check) is None):
        name = "alert.title.single"
    return render(db, name, check, count=count, **values)


def render(db: SqliteDatabase | None, name: str, check: str | None = None, **values: Any) -> str:
    """Fill a template; unknown placeholders stay visible rather than failing."""
    if check is not None:
        values.setdefault("label", check_label(check))
        values.setdefault("check", check)
    count = values.get("count")
    if isinstance(count, int):
        values.setdefault("s", "s" if count == 1 else "")
        values.setdefault("plural", "" if count == 1 else "s")
    return template(db, name, check).format_map(_Safe(values))
