"""engine.actions.alert_list: alerts filtered and paged, with their deliveries per channel."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.actions import alert_list
from engine.actions.errors import Invalid, NotFound
from engine.actions.target import Offline
from engine.store.db import connection
from engine.units import UNITS
from tests.engine.actions import dashboard_rows as rows
from tests.engine.actions.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
T0 = NOW - timedelta(hours=5)


@pytest.fixture
def target(db) -> Offline:
    return Offline(db, quiet_config(), UNITS, now=lambda: NOW)


def test_each_alert_lists_its_deliveries_per_channel_with_the_latest_state(target, db):
    with connection(db):
        a = rows.alert(db, "disk", "/", T0, "resolved", resolved=T0 + timedelta(hours=2),
                       notified=T0 + timedelta(hours=1))
        b = rows.alert(db, "disk", "/home", T0, "open", notified=T0)
        first = rows.notification(db, "disk", [a, b], T0)
        rows.outbox(db, first, "toast", T0)
        rows.outbox(db, first, "telegram", T0, "sent", attempts=3)
        again = rows.notification(db, "digest", [a], T0 + timedelta(hours=1), "digest")
        rows.outbox(db, again, "telegram", T0 + timedelta(hours=1), "failed", attempts=2, error="HTTP 400: chat")
        recovery = rows.notification(db, "disk", [a], T0 + timedelta(hours=2), "recovery")
        rows.outbox(db, recovery, "toast", T0 + timedelta(hours=2), "pending", attempts=0)
        later = rows.notification(db, "disk", [a], T0 + timedelta(hours=3))  # after a resolved: another alert's
        rows.outbox(db, later, "toast", T0 + timedelta(hours=3))
        rows.alert(db, "disk", "/var", T0, "open")  # never notified
    page = alert_list.alert_rows(target)
    assert page.total == 3 and [r.alert.subject for r in page.items] == ["/var", "/home", "/"]
    never, home, root = page.items
    assert never.deliveries == ()
    assert [(d.channel, d.notifications, d.state) for d in home.deliveries] == [("toast", 1, "sent"),
                                                                               ("telegram", 1, "sent")]
    by_channel = {d.channel: d for d in root.deliveries}
    assert (by_channel["toast"].notifications, by_channel["toast"].state) == (2, "pending")
    assert (by_channel["telegram"].notifications, by_channel["telegram"].state, by_channel["telegram"].attempts,
            by_channel["telegram"].last_error) == (2, "failed", 2, "HTTP 400: chat")
    assert root.to_dict()["check"] == "disk" and root.to_dict()["deliveries"][0]["channel"] == "toast"


def test_filters_by_state_and_check_and_pages(target, db):
    with connection(db):
        for i in range(4):
            rows.alert(db, "disk", f"/{i}", T0, "open")
        rows.alert(db, "ports", "22", T0, "acknowledged")
        rows.alert(db, "disk", "/old", T0, "resolved", resolved=T0)
    assert [r.alert.subject for r in alert_list.alert_rows(target, state="open", limit=2, offset=1).items] == \
        ["/2", "/1"]
    assert alert_list.alert_rows(target, state="open", limit=2).total == 4
    assert [r.alert.subject for r in alert_list.alert_rows(target, check="ports").items] == ["22"]
    assert alert_list.alert_rows(target, state="resolved", check="disk").total == 1
    with pytest.raises(Invalid, match=r"^state must be one of open, acknowledged, snoozed, resolved, not 'gone'$"):
        alert_list.alert_rows(target, state="gone")
    with pytest.raises(Invalid, match="^limit must be from 1 to 1000"):
        alert_list.alert_rows(target, limit=0)


def test_one_alert_row_carries_its_deliveries_like_the_listing(target, db):
    with connection(db):
        a = rows.alert(db, "disk", "/", T0, "open", notified=T0)
        sent = rows.notification(db, "disk", [a], T0)
        rows.outbox(db, sent, "telegram", T0, "sent", attempts=1)
    row = alert_list.alert_row(target, a)
    assert row == alert_list.alert_rows(target).items[0]
    assert [(d.channel, d.state) for d in row.deliveries] == [("telegram", "sent")]


def test_one_alert_row_of_an_unknown_id_is_not_found(target):
    with pytest.raises(NotFound, match="no alert with id 999"):
        alert_list.alert_row(target, 999)
