"""engine.actions.alerts: reads, acknowledge and snooze with their refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.actions import alerts
from engine.actions.errors import Conflict, Invalid, NotFound
from engine.store.db import connection
from engine.timeutil import to_db, utcnow

NOW = utcnow().replace(microsecond=0)


def _alert(db, state: str = "open") -> int:
    with connection(db):
        db.execute_sql("INSERT INTO alerts (check_name, subject, severity, title, state, opened_at, last_seen_at)"
                       " VALUES ('endpoint', 's', 'warning', 't', ?, ?, ?)", (state, to_db(NOW), to_db(NOW)))
        return int(db.execute_sql("SELECT max(id) FROM alerts").fetchone()[0])


def test_lists_and_gets_alerts(offline):
    alert_id = _alert(offline.db)
    assert alerts.list_alerts(offline, live_only=True).total == 1
    assert alerts.list_alerts(offline, state="resolved").to_dict() == {"items": [], "total": 0, "limit": 100,
                                                                      "offset": 0}
    assert alerts.get_alert(offline, alert_id).check_name == "endpoint"
    with pytest.raises(NotFound, match=f"^no alert with id {alert_id + 1}$"):
        alerts.get_alert(offline, alert_id + 1)


def test_snooze_then_acknowledge_on_the_running_instance(engine):
    alert_id = _alert(engine.db)
    snoozed = alerts.snooze(engine, alert_id, "2h")
    assert snoozed.state == "snoozed" and snoozed.snoozed_until is not None
    assert alerts.acknowledge(engine, alert_id).state == "acknowledged"
    assert all(a.id != alert_id for a in engine.snapshot().open_alerts)


def test_snooze_of_a_resolved_alert_is_a_conflict(offline):
    alert_id = _alert(offline.db, "resolved")
    with pytest.raises(Conflict, match=f"^alert {alert_id} is already resolved$"):
        alerts.snooze(offline, alert_id, timedelta(hours=1))
    with pytest.raises(Conflict, match="already resolved"):
        alerts.acknowledge(offline, alert_id)
    with pytest.raises(NotFound):
        alerts.acknowledge(offline, alert_id + 1)


def test_snooze_refuses_a_bad_duration_before_touching_the_alert(offline):
    alert_id = _alert(offline.db)
    for bad in ("soon", "0s", "99999999999d", timedelta(0)):
        with pytest.raises(Invalid):
            alerts.snooze(offline, alert_id, bad)
    assert alerts.get_alert(offline, alert_id).state == "open"
