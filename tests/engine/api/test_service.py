"""engine.api.service without HTTP: a real SQLite file, a real started Engine."""

from __future__ import annotations

import os
import stat
import sys
from datetime import timedelta

import pytest

from engine.actions import life
from engine.api import service
from engine.api.tokens import TokenStore, ensure_token, read_token, token_file
from engine.store.db import connection
from engine.timeutil import to_db, utcnow

NOW = utcnow().replace(microsecond=0)


# -- log, events, outbox --------------------------------------------------------------------------------


def test_heartbeat_log_filters_and_paging(db):
    for i in range(5):
        db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason) VALUES (?, ?, ?, ?)",
                       ("disk_space" if i % 2 else "endpoint", to_db(NOW - timedelta(hours=5 - i)),
                        "SENT" if i < 3 else "SUPPRESSED", f"r{i}"))
    assert service.heartbeat_log(db)["total"] == 5
    assert service.heartbeat_log(db, check="disk_space")["total"] == 2
    assert service.heartbeat_log(db, decision="SUPPRESSED")["total"] == 2
    assert service.heartbeat_log(db, since=NOW - timedelta(hours=2))["total"] == 2
    page = service.heartbeat_log(db, limit=2, offset=1)
    assert [e["reason"] for e in page["items"]] == ["r3", "r2"] and page["items"][0]["check"] == "disk_space"


def test_events_outbox_reads(db):
    from engine.events import record_event

    record_event(db, ts=NOW, source="disk_space", kind="check_error", detail={"error": "x"})
    record_event(db, ts=NOW, source="endpoint", kind="alert_opened")
    assert service.events(db, kind="check_error")["items"][0]["detail"] == {"error": "x"}
    assert service.events(db)["total"] == 2
    assert service.outbox(db) == {"items": [], "total": 0, "limit": 100, "offset": 0}


def test_alert_reads(db):
    db.execute_sql("INSERT INTO alerts (check_name, subject, severity, title, state, opened_at, last_seen_at)"
                   " VALUES ('endpoint', 's', 'warning', 't', 'open', ?, ?)", (to_db(NOW), to_db(NOW)))
    assert service.list_alerts(db, live_only=True)["total"] == 1
    assert service.list_alerts(db, state="resolved")["total"] == 0
    assert service.get_alert(db, 1)["check"] == "endpoint"
    with pytest.raises(service.NotFound):
        service.get_alert(db, 2)


# -- with a running engine -------------------------------------------------------------------------------


def test_engine_round_trip_without_http(engine):
    db = engine.db
    with connection(db):
        life.create_application(db, "Acme", "SRE", now=engine.now(), applied_at=engine.now() - timedelta(days=8))
        names = [c["name"] for c in service.list_checks(engine)]
        assert "stale_applications" in names
        with pytest.raises(service.NotFound):
            service.run_checks(engine, ["stale_applications", "nope"])
        (run,) = service.run_checks(engine, ["stale_applications"])
        assert run["outcome"] == "firing" and run["findings"] == 1 and run["decision"] == "SENT"
        detail = service.check_detail(engine, "stale_applications")
        assert detail["recent_runs"][0]["trigger"] == "api" and detail["params"] == {"days": 7}
        assert "Cooldown: 24 hours" in service.why(engine, "stale_applications")["text"]
        (alert,) = service.list_alerts(db, live_only=True)["items"]
        snoozed = service.snooze(engine, alert["id"], timedelta(hours=2))
        assert snoozed["state"] == "snoozed"
        assert service.acknowledge(engine, alert["id"])["state"] == "acknowledged"
        with pytest.raises(service.NotFound):
            service.acknowledge(engine, 999)
        paused = service.pause(engine, timedelta(hours=1))
        assert paused["paused_until"] and engine.snapshot().paused_until is not None
        assert service.pause(engine, None) == {"paused_until": None}
        assert service.status(engine)["state"] in ("ok", "attention")
        assert service.health(engine) == {"status": "up", "state": engine.snapshot().state.value}
        assert service.channels(engine) == []
        with pytest.raises(service.NotFound):
            service.send_test_message(engine, "telegram")
        assert "token" in service.config(engine)["telegram"]


def test_resolved_alert_cannot_be_acknowledged(engine):
    db = engine.db
    with connection(db):
        db.execute_sql("INSERT INTO alerts (check_name, subject, severity, title, state, opened_at, last_seen_at)"
                       " VALUES ('endpoint', 's', 'warning', 't', 'resolved', ?, ?)", (to_db(NOW), to_db(NOW)))
        with pytest.raises(service.Conflict):
            service.acknowledge(engine, 1)


def test_config_hides_secrets(wk_home):
    from engine.config import parse_config
    from engine.engine import Engine
    from engine.units import UNITS

    eng = Engine(wk_home, parse_config({"telegram": {"token": "123:SECRET", "enabled": False}}, env={}), UNITS)
    assert service.config(eng)["telegram"]["token"] == "<set>"
    assert "SECRET" not in str(service.config(eng))


# -- tokens ---------------------------------------------------------------------------------------------


def test_token_created_once_private_and_reloaded(wk_home):
    assert read_token(wk_home) is None
    first = ensure_token(wk_home)
    assert ensure_token(wk_home) == first and len(first) >= 40
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(token_file(wk_home)).st_mode) == 0o600
    store = TokenStore(wk_home)
    assert store.current().full == first and store.current().read_only is None
    read_only = ensure_token(wk_home, read_only=True)
    assert store.current().read_only == read_only
    rotated = ensure_token(wk_home, rotate=True)
    os.utime(token_file(wk_home), ns=(1, 1))  # a different stamp even on coarse clocks
    assert rotated != first and store.current().full == rotated
