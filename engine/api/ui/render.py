"""The dashboard's Jinja2 environment (autoescaped templates in templates/) and its ``time`` filter.

``{{ value|time }}`` renders ``<time datetime="UTC ISO">2026-12-01 14:05 CET</time>`` (the absolute
local time with its zone, engine.timeutil.human_time); static/app.js turns the text into a relative
one ("3 minutes ago") and keeps the absolute time as the title. ``None`` renders "never"."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from engine.timeutil import from_db, human_time

TEMPLATES = Path(__file__).resolve().parent / "templates"


def time_tag(value: datetime | str | None, zone: tzinfo | None = None, *, never: str = "never") -> Markup:
    """A ``<time>`` element for ``value`` (a datetime or a stored timestamp); ``never`` for None."""
    if value is None or value == "":
        return Markup("{}").format(never)
    dt = from_db(value) if isinstance(value, str) else value
    if dt.tzinfo is None:  # naive values in this code base are UTC
        dt = dt.replace(tzinfo=timezone.utc)
    iso = dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}">{}</time>').format(iso, human_time(dt, zone))


def environment(zone: tzinfo | None) -> Environment:
    """Templates from templates/, autoescaped, with the ``time`` filter in ``zone`` (None: the machine's)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["time"] = lambda value, never="never": time_tag(value, zone, never=never)
    return env


def templates(zone: tzinfo | None) -> Jinja2Templates:
    """FastAPI's template responses over :func:`environment`."""
    return Jinja2Templates(env=environment(zone))
