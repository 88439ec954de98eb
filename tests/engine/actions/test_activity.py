"""engine.actions.activity: decisions, recoveries and deliveries newest first, and the cursor."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.actions import activity
from engine.actions.errors import Invalid
from engine.actions.target import Offline
from engine.store.db import connection
from engine.units import UNITS
from tests.engine.actions import dashboard_rows as rows
from tests.engine.actions.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def target(db) -> Offline:
    return Offline(db, quiet_config(), UNITS, now=lambda: NOW)


def test_feed_merges_decisions_recoveries_and_deliveries_newest_first(target, db):
    with connection(db):
        rows.decision(db, "disk", NOW - timedelta(minutes=9), "SUPPRESSED", "within cooldown")
        nid = rows.notification(db, "disk", [1], NOW - timedelta(minutes=5))
        out = rows.outbox(db, nid, "telegram", NOW - timedelta(minutes=5), "pending")
        rows.attempt(db, out, NOW - timedelta(minutes=4), ok=False, error="HTTP 502")
        rows.attempt(db, out, NOW - timedelta(minutes=2), ok=True)
        rows.decision(db, "disk", NOW - timedelta(minutes=1), "RECOVERY", "/ resolved after 8 min")
    feed = activity.feed(target)
    assert [(i.kind, i.state) for i in feed.items] == [("recovery", "RECOVERY"), ("delivery", "sent"),
                                                       ("delivery", "failed"), ("decision", "SUPPRESSED")]
    failed = feed.items[2]
    assert (failed.channel, failed.error, failed.check, failed.text) == ("telegram", "HTTP 502", "disk", "alert [1]")
    assert feed.cursor == "2.2"


def test_after_the_cursor_only_what_was_recorded_since_even_when_stamped_earlier(target, db):
    with connection(db):
        rows.decision(db, "disk", NOW)
    cursor = activity.feed(target).cursor
    assert activity.feed(target, after=cursor).items == ()
    with connection(db):
        rows.decision(db, "disk", NOW - timedelta(days=1), "SENT", "the clock went back")
    later = activity.feed(target, after=cursor)
    assert [i.text for i in later.items] == ["the clock went back"] and later.cursor == "2.0"
    assert activity.feed(target, after=later.cursor).to_dict() == {"items": [], "cursor": "2.0"}


def test_feed_is_limited_and_refuses_a_bad_cursor_or_limit(target, db):
    with connection(db):
        for i in range(5):
            rows.decision(db, "disk", NOW - timedelta(minutes=5 - i), reason=f"r{i}")
    assert [i.text for i in activity.feed(target, limit=2).items] == ["r4", "r3"]
    for bad in ("x", "1", "1.2.3", "-1.0"):
        with pytest.raises(Invalid, match="^cursor must be two numbers joined by a dot"):
            activity.feed(target, after=bad)
    with pytest.raises(Invalid, match=r"^limit must be from 1 to 200, not 0$"):
        activity.feed(target, limit=0)
