"""The Overview page and the shared layout: navigation names, health in words, counters, times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from engine.api.ui.render import time_tag

NAV = ["Overview", "Checks", "Alerts", "Applications", "Goals", "Archive", "Delivery"]


def test_the_overview_shows_health_in_words_and_the_counters(visitor, login, engine):
    login(visitor)
    page = visitor.get("/ui/").text
    assert re.findall(r'<li><a href="[^"]+"(?: aria-current="page")?>([^<]+)</a></li>', page) == NAV
    assert '<a href="/ui/" aria-current="page">Overview</a>' in page
    assert '<a class="skip-link" href="#main">' in page
    snap = engine.snapshot()
    assert f'class="health health-{snap.state.value}"' in page
    for label in ("Needing attention", "Snoozed", "Paused until", "Channels ok"):
        assert f"<dt>{label}</dt>" in page
    assert 'data-live="/ui/events"' in page and 'sse-swap="status"' in page


def test_no_inline_script_or_style_in_any_page(visitor, login):
    pages = [visitor.get("/ui/login").text]
    login(visitor)
    pages.append(visitor.get("/ui/").text)
    for page in pages:
        assert "style=" not in page and "<style" not in page
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page)
        assert "hx-on" not in page


def test_the_pause_counter_shows_the_time_it_ends(visitor, login, engine):
    from engine.actions import instance

    until = (engine.now() + timedelta(hours=2)).replace(microsecond=0)
    instance.pause_until(engine, until)
    login(visitor)
    assert f'<time datetime="{until.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}">' in visitor.get("/ui/").text


def test_the_time_filter_renders_utc_iso_and_local_time_with_its_zone():
    value = datetime(2026, 12, 1, 13, 5, tzinfo=timezone.utc)
    berlin = time_tag(value, ZoneInfo("Europe/Berlin"))
    assert berlin == '<time datetime="2026-12-01T13:05:00Z">2026-12-01 14:05 CET</time>'
    assert time_tag("2026-12-01T13:05:00.000000Z", ZoneInfo("UTC")).startswith('<time datetime="2026-12-01T13:05:00Z">')
    assert time_tag(None) == "never"
    assert time_tag(None, never="<not yet>") == "&lt;not yet&gt;"
