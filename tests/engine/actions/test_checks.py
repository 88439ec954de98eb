"""engine.actions.checks on a real started Engine and on a database without an instance."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.actions import checks
from engine.actions.errors import Invalid, NotFound
from engine.life import applications
from engine.store.db import connection
from engine.timeutil import to_db, utcnow

NOW = utcnow().replace(microsecond=0)


def _check_runs(db) -> int:
    with connection(db):
        return int(db.execute_sql("SELECT count(*) FROM check_runs").fetchone()[0])


def test_an_unknown_check_is_refused_before_any_runs(engine):
    with pytest.raises(NotFound, match=r"^no check named 'nope'; checks: stale_applications, "):
        checks.run_checks(engine, ["stale_applications", "nope"], "manual")
    assert _check_runs(engine.db) == 0


def test_runs_one_check_records_its_trigger_and_dispatches(engine):
    with connection(engine.db):
        applications.create(engine.db, company="Acme", role="SRE", now=NOW, applied_at=NOW - timedelta(days=8))
    (run,) = checks.run_checks(engine, ["stale_applications"], "api").runs
    assert run.to_dict()["outcome"] == "firing" and run.to_dict()["decision"] == "SENT"
    detail = checks.check_detail(engine, "stale_applications")
    assert detail.recent_runs[0]["trigger"] == "api" and detail.params == {"days": 7}
    assert detail.to_dict()["open_alerts"] == 1 and detail.check.next_run is not None
    assert "Cooldown: 24 hours" in checks.why(engine, "stale_applications").text()


def test_no_names_runs_every_enabled_check_in_order(offline):
    runs = checks.run_checks(offline, None, "manual").to_dict()["runs"]
    assert [r["check"] for r in runs] == [d.name for d in offline.checks.enabled]


def test_lists_checks_without_an_instance(offline):
    infos = {c.name: c for c in checks.list_checks(offline)}
    assert infos["disk_space"].enabled is False and infos["stale_applications"].next_run is None
    with pytest.raises(NotFound, match="no check named 'nope'"):
        checks.why(offline, "nope")


def test_schedule_job_names_an_unknown_job(engine):
    assert checks.schedule_job(engine, "heartbeat") == "heartbeat"
    with pytest.raises(NotFound, match=r"^no such job: 'nope'$"):
        checks.schedule_job(engine, "nope")
    with pytest.raises(NotFound, match=r"^no such job: None$"):
        checks.schedule_job(engine, None)


def test_heartbeat_log_filters_pages_and_refuses_a_bad_limit(offline):
    db = offline.db
    for i in range(5):
        db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason) VALUES (?, ?, ?, ?)",
                       ("disk_space" if i % 2 else "endpoint", to_db(NOW - timedelta(hours=5 - i)),
                        "SENT" if i < 3 else "SUPPRESSED", f"r{i}"))
    assert checks.heartbeat_log(offline).total == 5
    assert checks.heartbeat_log(offline, check="disk_space").total == 2
    assert checks.heartbeat_log(offline, decision="SUPPRESSED").total == 2
    assert checks.heartbeat_log(offline, since=NOW - timedelta(hours=2)).total == 2
    page = checks.heartbeat_log(offline, limit=2, offset=1).to_dict()
    assert [e["reason"] for e in page["items"]] == ["r3", "r2"] and page["items"][0]["check"] == "disk_space"
    for limit in (0, -1, 1001):
        with pytest.raises(Invalid, match=f"^limit must be from 1 to 1000, not {limit}$"):
            checks.heartbeat_log(offline, limit=limit)
    with pytest.raises(Invalid, match="^offset must be"):
        checks.heartbeat_log(offline, offset=-1)


def test_log_of_an_unknown_check_names_the_known_checks(offline):
    with pytest.raises(NotFound, match="no check named 'NOSUCH'; checks: stale_applications, "):
        checks.heartbeat_log(offline, check="NOSUCH")
    assert checks.heartbeat_log(offline, check="stale_applications").items == ()  # known, no decisions yet


def test_log_of_a_check_removed_from_the_config_keeps_its_history(offline):
    offline.db.execute_sql("INSERT INTO heartbeat_log (check_name, ts, decision, reason) VALUES (?, ?, ?, ?)",
                           ("old_check", to_db(utcnow()), "SENT", "first notification"))
    assert [d["check"] for d in checks.heartbeat_log(offline, check="old_check").items] == ["old_check"]
