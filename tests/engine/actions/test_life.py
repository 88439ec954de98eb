"""engine.actions.life on a real SQLite file: the JSON of each result, the checks made once for
every front end, engine.life's refusals as NotFound / Invalid / Conflict, updates of given fields only."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import get_args

import pytest

from engine.actions import life
from engine.actions.errors import Conflict, Invalid, NotFound
from engine.timeutil import to_db

NOW = datetime(2030, 1, 15, 9, 30, tzinfo=timezone.utc)


def test_application_round_trip_gives_the_api_json(db):
    a = life.create_application(db, "Acme", "SRE", now=NOW, applied_at=NOW - timedelta(days=8), url="https://a")
    assert a.to_dict() == {"id": a.id, "company": "Acme", "role": "SRE", "status": "applied",
                           "applied_at": to_db(NOW - timedelta(days=8)), "updated_at": to_db(NOW),
                           "url": "https://a", "notes": None}
    assert life.list_applications(db).to_dict() == {"items": [a.to_dict()], "total": 1, "limit": 100, "offset": 0}
    assert life.get_application(db, a.id) == a
    assert life.delete_application(db, a.id).to_dict() == {"id": a.id, "deleted": True}
    with pytest.raises(NotFound, match=f"^no application with id {a.id}$"):
        life.get_application(db, a.id)


def test_update_changes_only_the_given_fields_and_none_clears_an_optional_one(db):
    a = life.create_application(db, "Acme", "SRE", now=NOW, notes="call back")
    later = NOW + timedelta(hours=1)
    changed = life.update_application(db, a.id, now=later, status="interviewing", notes=None)
    assert (changed.company, changed.status, changed.notes, changed.updated_at) == (
        "Acme", "interviewing", None, to_db(later))
    with pytest.raises(Invalid, match="^company cannot be null$"):
        life.update_application(db, a.id, now=later, company=None)


def test_input_is_checked_with_a_message_naming_the_field(db):
    with pytest.raises(Invalid, match="^company must be 1 to 200 characters$"):
        life.create_application(db, "", "SRE", now=NOW)
    with pytest.raises(Invalid, match="^status must be one of applied, screening, "):
        life.create_application(db, "Acme", "SRE", now=NOW, status="hired")
    with pytest.raises(Invalid, match="^notes must be text of at most 4000 characters$"):
        life.create_application(db, "Acme", "SRE", now=NOW, notes="x" * 4001)
    with pytest.raises(Invalid, match=r"^applied_at out of range \(years 1900-9999\)$"):
        life.create_application(db, "Acme", "SRE", now=NOW, applied_at=datetime(1800, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(Invalid, match="^limit must be at least 1$"):
        life.list_applications(db, limit=0)
    with pytest.raises(Invalid, match="^status must be one of ended, abandoned$"):
        life.end_work_session(db, life.start_work_session(db, "x", now=NOW).id, now=NOW, status="done")
    with pytest.raises(Invalid, match="^value must be a finite number$"):
        life.add_progress(db, life.create_goal(db, "Run", now=NOW).id, value=float("nan"), now=NOW)
    assert db.execute_sql("SELECT count(*) FROM applications").fetchone()[0] == 0  # nothing half-stored


def test_a_time_without_offset_is_taken_as_utc(db):
    a = life.create_application(db, "Acme", "SRE", now=NOW, applied_at=datetime(2030, 1, 1, 8, 0))
    assert a.applied_at == to_db(datetime(2030, 1, 1, 8, 0, tzinfo=timezone.utc))


def test_work_session_activity_defaults_to_now_and_ending_twice_is_a_conflict(db):
    s = life.start_work_session(db, "refactor", now=NOW, cwd="/src")
    assert life.record_activity(db, s.id, now=NOW + timedelta(minutes=5)).last_activity_at == to_db(
        NOW + timedelta(minutes=5))
    assert life.record_activity(db, s.id, now=NOW, at=NOW - timedelta(hours=1)).last_activity_at == to_db(
        NOW + timedelta(minutes=5))  # never backwards
    ended = life.end_work_session(db, s.id, now=NOW + timedelta(hours=1), status="abandoned")
    assert (ended.status, ended.ended_at) == ("abandoned", to_db(NOW + timedelta(hours=1)))
    with pytest.raises(Conflict, match=f"^work session {s.id} is already abandoned$"):
        life.end_work_session(db, s.id, now=NOW)
    assert life.list_work_sessions(db, status="abandoned").to_dict()["items"] == [ended.to_dict()]
    with pytest.raises(NotFound, match="^no work session with id 999$"):
        life.get_work_session(db, 999)


def test_goal_detail_json_has_sub_goals_dependencies_and_progress(db):
    health = life.create_domain(db, "Health", now=NOW)
    assert life.list_domains(db) == (health,)
    run = life.create_goal(db, "Half marathon", now=NOW, domain_id=health.id, target_date=date(2030, 5, 1))
    sleep = life.create_goal(db, "Sleep", now=NOW)
    sub = life.add_sub_goal(db, run.id, "10k", now=NOW)
    done = life.update_sub_goal(db, sub.id, now=NOW + timedelta(days=1), status="done")
    assert life.add_dependency(db, run.id, sleep.id).to_dict() == {"goal_id": run.id, "depends_on_goal_id": sleep.id}
    p = life.add_progress(db, run.id, "5 km", 5.5, now=NOW, at=NOW + timedelta(days=2))
    assert p.to_dict() == {"id": p.id, "goal_id": run.id, "ts": to_db(NOW + timedelta(days=2)), "value": 5.5,
                           "note": "5 km"}
    assert life.goal_detail(db, run.id).to_dict() == {
        "id": run.id, "domain_id": health.id, "domain": "Health", "title": "Half marathon", "status": "active",
        "target_date": "2030-05-01", "created_at": to_db(NOW), "last_progress_at": to_db(NOW + timedelta(days=2)),
        "sub_goals": [done.to_dict()], "depends_on": [sleep.id], "recent_progress": [p.to_dict()]}
    assert life.list_progress(db, run.id).to_dict()["items"] == [p.to_dict()]
    assert life.update_goal(db, run.id, status="done", domain_id=None).to_dict()["domain"] is None
    assert life.list_goals(db, status="done").total == 1
    assert life.remove_dependency(db, run.id, sleep.id).depends_on_goal_id == sleep.id


def test_goal_refusals_keep_engine_life_messages(db):
    life.create_domain(db, "Health", now=NOW)
    with pytest.raises(Conflict, match="^a domain named 'Health' exists$"):
        life.create_domain(db, "Health", now=NOW)
    a, b = (life.create_goal(db, t, now=NOW).id for t in "ab")
    life.add_dependency(db, a, b)
    with pytest.raises(Conflict, match="a cycle"):
        life.add_dependency(db, b, a)
    with pytest.raises(Invalid, match="^no goal with id 999$"):
        life.add_dependency(db, a, 999)
    with pytest.raises(Invalid, match="^no domain with id 7$"):
        life.create_goal(db, "c", now=NOW, domain_id=7)
    with pytest.raises(NotFound, match="^no goal with id 999$"):
        life.goal_detail(db, 999)
    with pytest.raises(NotFound, match=f"^goal {a} does not depend on goal {a}$"):
        life.remove_dependency(db, a, a)
    with pytest.raises(Invalid, match="^status must be one of open, done$"):
        life.update_sub_goal(db, life.add_sub_goal(db, a, "s", now=NOW).id, now=NOW, status="closed")


def test_the_api_models_offer_the_statuses_the_actions_accept():
    from engine.api import models as m

    assert get_args(m.ApplicationStatus) == life.APPLICATION_STATUSES
    assert get_args(m.GoalStatus) == life.GOAL_STATUSES
    sub_goal_status, _none = get_args(m.SubGoalPatch.model_fields["status"].annotation)
    assert get_args(sub_goal_status) == life.SUB_GOAL_STATUSES
    assert get_args(m.EndIn.model_fields["status"].annotation) == life.END_STATUSES
