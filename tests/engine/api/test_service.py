"""engine.api.service without HTTP: a real SQLite file, a real started Engine."""

from __future__ import annotations

import os
import stat
import sys
from datetime import date, timedelta

import pytest

from engine.api import service
from engine.api.tokens import TokenStore, ensure_token, read_token, token_file
from engine.store.db import connection
from engine.timeutil import from_db, to_db, utcnow

NOW = utcnow().replace(microsecond=0)


# -- the life data (engine.life owns it; tests/engine/life test its rules) ---------------------------------


def test_life_rows_come_back_as_plain_dicts_and_pages(db):
    a = service.create_application(db, company="Acme", role="SRE", now=NOW, applied_at=NOW - timedelta(days=8))
    assert a["status"] == "applied" and from_db(a["applied_at"]) == NOW - timedelta(days=8)
    assert service.list_applications(db) == {"items": [a], "total": 1, "limit": 100, "offset": 0}
    assert service.delete_application(db, a["id"]) == {"id": a["id"], "deleted": True}
    s = service.start_work_session(db, name="refactor", now=NOW, cwd="/src")
    assert service.end_work_session(db, s["id"], NOW)["ended_at"] == to_db(NOW)
    assert service.list_work_sessions(db, status="ended")["total"] == 1
    health = service.create_domain(db, name="Health", now=NOW)
    assert service.list_domains(db) == [health]
    run = service.create_goal(db, title="Half marathon", now=NOW, domain_id=health["id"], target_date=date(2030, 5, 1))
    sleep = service.create_goal(db, title="Sleep", now=NOW)
    assert run["domain"] == "Health" and run["target_date"] == "2030-05-01"
    sub = service.add_sub_goal(db, run["id"], title="10k", now=NOW)
    assert service.update_sub_goal(db, sub["id"], {"status": "done"}, NOW)["done_at"] == to_db(NOW)
    assert service.add_dependency(db, run["id"], sleep["id"]) == {"goal_id": run["id"],
                                                                 "depends_on_goal_id": sleep["id"]}
    p = service.add_progress(db, run["id"], now=NOW, value=5.5, note="5 km")
    detail = service.goal_detail(db, run["id"])
    assert detail["depends_on"] == [sleep["id"]] and detail["sub_goals"] == [{**sub, "status": "done",
                                                                              "done_at": to_db(NOW)}]
    assert detail["recent_progress"] == [p] and detail["last_progress_at"] == to_db(NOW)
    assert service.list_progress(db, run["id"])["items"] == [p]
    assert service.update_goal(db, run["id"], {"status": "done"})["status"] == "done"
    assert service.list_goals(db, status="done")["total"] == 1
    assert service.remove_dependency(db, run["id"], sleep["id"])["depends_on_goal_id"] == sleep["id"]


def test_life_refusals_become_not_found_invalid_and_conflict(db):
    with pytest.raises(service.NotFound, match="^no application with id 999$"):
        service.get_application(db, 999)
    with pytest.raises(service.Invalid, match="^company cannot be null$"):
        service.update_application(db, service.create_application(db, company="A", role="B", now=NOW)["id"],
                                   {"company": None}, NOW)
    s = service.start_work_session(db, name="x", now=NOW)
    service.end_work_session(db, s["id"], NOW)
    with pytest.raises(service.Conflict, match="is already ended"):
        service.end_work_session(db, s["id"], NOW)
    service.create_domain(db, name="Health", now=NOW)
    with pytest.raises(service.Conflict):
        service.create_domain(db, name="Health", now=NOW)
    a, b = (service.create_goal(db, title=t, now=NOW)["id"] for t in "ab")
    service.add_dependency(db, a, b)
    with pytest.raises(service.Conflict, match="a cycle"):
        service.add_dependency(db, b, a)
    with pytest.raises(service.Invalid, match="^no goal with id 999$"):
        service.add_dependency(db, a, 999)
    with pytest.raises(service.NotFound):
        service.goal_detail(db, 999)


# -- archive -------------------------------------------------------------------------


def test_archive_reads(db):
    assert service.archive_runs(db)["total"] == 0
    assert service.archive_sessions(db) == []
    assert service.archive_search(db, "anything") == []
    with pytest.raises(service.NotFound):
        service.archive_session(db, "nope")


# -- with a running engine -------------------------------------------------------------------------------


def test_archive_run_is_refused_when_the_archive_is_off(engine):
    with connection(engine.db), pytest.raises(service.Conflict):
        service.run_archive_now(engine)  # disabled in this config


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
