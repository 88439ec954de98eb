"""Message wording: templates with defaults in code, overridable per key and per check in the
personality_config table (keys ``template.<name>`` and ``template.<name>.<check>``)."""

from __future__ import annotations

from typing import Any

from peewee import SqliteDatabase

DEFAULTS: dict[str, str] = {
    "alert.title": "{label}: {count} need{s} attention",
    "alert.line": "• {title}",
    "alert.detail": "  {detail}",
    "alert.more": "… and {count} more",
    "recovery.title": "Resolved: {title}",
    "recovery.body": "{label}: {title}, resolved after {duration}.",
    "digest.title": "While it was quiet: {count} alert{plural}",
    "offline.title": "While you were offline: {count} message{plural}",
    "test.title": "Watchkeeper test message",
    "test.body": "If you can read this, alerts reach you here.",
}


class _Safe(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def check_label(check_name: str) -> str:
    """'stale_applications' -> 'Stale applications'."""
    return check_name.replace("_", " ").capitalize()


def template(db: SqliteDatabase | None, name: str, check: str | None = None) -> str:
    """The user's template for ``name`` (per check first), else the default."""
    if db is not None:
        keys = [f"template.{name}.{check}"] if check else []
        keys.append(f"template.{name}")
        for key in keys:
            row = db.execute_sql("SELECT value FROM personality_config WHERE key = ?", (key,)).fetchone()
            if row and row[0]:
                return str(row[0])
    return DEFAULTS[name]


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
