"""engine.actions.delivery_overview: channels, outbox counts per channel and state, failed rows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.actions.delivery_overview import delivery_overview
from engine.actions.errors import Invalid
from engine.actions.target import Offline
from engine.store.db import connection
from engine.units import UNITS
from tests.engine.actions import dashboard_rows as rows
from tests.engine.actions.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_counts_rows_per_channel_and_state_and_lists_the_newest_failed(db):
    target = Offline(db, quiet_config(), UNITS, now=lambda: NOW)
    with connection(db):
        for i, state in enumerate(("sent", "pending", "failed", "failed", "collapsed")):
            nid = rows.notification(db, "disk", [i], NOW)
            rows.outbox(db, nid, "telegram", NOW, state, error="HTTP 400" if state == "failed" else None)
    view = delivery_overview(target, failed=1)
    assert {c.name for c in view.channels} >= {"telegram", "toast"}
    assert view.outbox["telegram"] == {"pending": 1, "sending": 0, "sent": 1, "failed": 2, "collapsed": 1,
                                     "held": 0, "skipped": 0}
    assert view.outbox["toast"] == {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "collapsed": 0, "held": 0,
                                  "skipped": 0}
    (failed,) = view.failed
    assert (failed.id, failed.channel, failed.last_error, failed.check) == (4, "telegram", "HTTP 400", "disk")
    with pytest.raises(Invalid, match=r"^failed must be from 1 to 200, not 0$"):
        delivery_overview(target, failed=0)
