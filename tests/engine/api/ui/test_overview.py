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


# -- check rows, the feed, Run all checks, Pause and Resume ------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _write_headers():
    from tests.engine.api.ui.conftest import WRITE_HEADERS

    return {**WRITE_HEADERS, **FORM}


def test_each_check_is_a_row_with_24h_and_7d_strips_and_its_next_run(firing_visitor, firing_engine):
    page = firing_visitor.get("/ui/").text
    rows = re.findall(r'<tr data-check="([^"]+)">', page)
    assert rows == list(firing_engine.checks.definitions)
    assert 'aria-label="Last 24 hours: no alerts or errors in 48 periods, 48 without a run"' in page
    assert 'aria-label="Last 7 days: no alerts or errors in 56 periods, 56 without a run"' in page
    assert "never run" in page
    assert 'hx-get="/ui/overview/checks" hx-trigger="sse:checks"' in page


def test_run_all_checks_says_what_was_found_and_redraws_the_rows(firing_visitor):
    answer = firing_visitor.post("/ui/overview/run", headers=_write_headers())
    assert answer.status_code == 200
    assert re.search(r"✓</span> \d+ checks? run: 1 alert</p>", answer.text), answer.text[:400]
    assert '<div id="overview-checks" hx-swap-oob="innerHTML">' in answer.text
    assert re.search(r'class="cell cell-alert"[^>]*><title>[^<]+: 1 run: 1 alert</title>', answer.text)
    assert '<dd data-counter="attention">1</dd>' in answer.text  # the new state, out of band


def test_the_feed_returns_only_events_after_its_cursor_and_moves_it(firing_visitor):
    first = firing_visitor.get("/ui/overview/feed").text
    cursor = re.search(r'id="feed-cursor" name="after" value="([\d.]+)" hx-swap-oob="true"', first).group(1)
    assert "feed-item" not in first
    firing_visitor.post("/ui/overview/run", headers=_write_headers())
    after = firing_visitor.get("/ui/overview/feed", params={"after": cursor}).text
    assert re.search(r'<span class="feed-kind">Decision</span>\s*<span class="feed-state">SENT</span>', after)
    moved = re.search(r'value="([\d.]+)" hx-swap-oob', after).group(1)
    assert moved != cursor
    again = firing_visitor.get("/ui/overview/feed", params={"after": moved}).text
    assert "feed-item" not in again


def test_a_malformed_feed_cursor_is_answered_with_the_problem(firing_visitor):
    answer = firing_visitor.get("/ui/overview/feed", params={"after": "x"})
    assert "cursor must be two numbers joined by a dot" in answer.text


def test_pause_for_an_hour_then_resume_change_the_engines_pause(visitor, login, engine):
    login(visitor)
    paused = visitor.post("/ui/overview/pause", headers=_write_headers(), content="choice=1h")
    assert "Alerts paused until <time" in paused.text
    assert engine.snapshot().paused_until is not None
    assert '<div id="overview-status" hx-swap-oob="innerHTML">' in paused.text
    resumed = visitor.post("/ui/overview/resume", headers=_write_headers())
    assert "Alerts resumed" in resumed.text
    assert engine.snapshot().paused_until is None


def test_a_bad_custom_pause_is_refused_naming_both_forms_and_nothing_changes(visitor, login, engine):
    login(visitor)
    answer = visitor.post("/ui/overview/pause", headers=_write_headers(), content="choice=custom&custom=soon")
    assert "custom pause must be a duration such as 2h or a time such as 18:30" in answer.text
    assert 'class="result result-error"' in answer.text
    assert engine.snapshot().paused_until is None


def test_page_actions_without_the_ui_header_are_refused(visitor, login, engine):
    from tests.engine.api.ui.conftest import ORIGIN

    login(visitor)
    answer = visitor.post("/ui/overview/pause", headers={"Origin": ORIGIN, **FORM}, content="choice=1h")
    assert answer.status_code == 403
    assert engine.snapshot().paused_until is None
