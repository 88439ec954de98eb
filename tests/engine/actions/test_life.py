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


# -- what people type: dates, CSV import, goals by name, the sample data --------------------------------

UTC = timezone.utc


def test_a_date_is_read_as_yyyy_mm_dd_and_a_bad_one_is_named():
    assert life.parse_date("--applied", "2026-11-20") == date(2026, 11, 20)
    for bad in ("2026-13-01", "2026-02-30", "20.11.2026", "2026-1-5", "yesterday"):
        with pytest.raises(Invalid, match=f"^--applied: '{bad}' is not a date \\(use YYYY-MM-DD\\)$"):
            life.parse_date("--applied", bad)


def test_a_typed_date_starts_at_midnight_in_the_persons_zone():
    from zoneinfo import ZoneInfo

    assert life.start_of_day(date(2026, 7, 1), ZoneInfo("Europe/Berlin")) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)


def test_csv_import_records_every_row_in_one_go(db):
    text = ("Company,Role,Applied,Status,URL,Notes\n"
            "Initech,Dev,2026-11-01,screening,https://i,ref by Bob\nHooli,PM,,,,\n")
    imported = life.import_applications_csv(db, text, now=NOW, zone=UTC)
    assert [(a.company, a.role, a.status, a.applied_at, a.url, a.notes) for a in imported.applications] == [
        ("Initech", "Dev", "screening", to_db(datetime(2026, 11, 1, tzinfo=UTC)), "https://i", "ref by Bob"),
        ("Hooli", "PM", "applied", to_db(NOW), None, None)]
    assert imported.to_dict()["imported"] == 2


def test_csv_import_with_a_bad_row_imports_nothing_and_names_each_row_and_field(db):
    life.create_application(db, "Kept", "Mine", now=NOW)
    text = ("company,role,applied,status\n"
            "Initech,Dev,2026-11-01,\n,QA,,\nHooli,PM,2026-02-30,\nX,Y,,hired\nA,B,,,extra\n")
    with pytest.raises(life.ImportRefused) as refused:
        life.import_applications_csv(db, text, now=NOW, zone=UTC)
    assert refused.value.problems == (
        "row 3: company must be 1 to 200 characters",
        "row 4: applied: '2026-02-30' is not a date (use YYYY-MM-DD)",
        "row 5: status must be one of " + ", ".join(life.APPLICATION_STATUSES),
        "row 6: more values than the 4 columns")
    assert [a.company for a in life.list_applications(db).items] == ["Kept"]  # nothing half-imported


def test_csv_import_refuses_a_header_without_company_or_with_an_unknown_column(db):
    with pytest.raises(life.ImportRefused, match="row 1: unknown column 'salary'.*row 1: the column 'role' is missing"):
        life.import_applications_csv(db, "company,salary\nAcme,100\n", now=NOW, zone=UTC)
    with pytest.raises(life.ImportRefused, match="no rows after the header"):
        life.import_applications_csv(db, "company,role\n\n", now=NOW, zone=UTC)
    with pytest.raises(life.ImportRefused, match="header row is missing"):
        life.import_applications_csv(db, "", now=NOW, zone=UTC)


def test_a_goal_gets_its_domain_by_name_created_once(db):
    first = life.create_goal(db, "Run a 10k", now=NOW, domain_name="Fitness")
    second = life.create_goal(db, "Swim 1 km", now=NOW, domain_name="Fitness")
    assert first.domain == second.domain == "Fitness" and first.domain_id == second.domain_id
    assert [d.name for d in life.list_domains(db)] == ["Fitness"]
    with pytest.raises(Invalid, match="^domain must be 1 to 200 characters$"):
        life.create_goal(db, "x", now=NOW, domain_name="")
    assert len(life.list_goals(db).items) == 2  # the refused goal left nothing behind


def test_find_goal_by_id_or_unambiguous_title_prefix(db):
    run = life.create_goal(db, "Run a half marathon", now=NOW)
    run10 = life.create_goal(db, "Run 10k", now=NOW)
    life.create_goal(db, "Read more", now=NOW, status="done")
    assert life.find_goal(db, str(run.id)) == life.find_goal(db, f"#{run.id}") == run
    assert life.find_goal(db, "run a") == run
    assert life.find_goal(db, "Run 10K") == run10  # an exact title wins
    with pytest.raises(Invalid, match=r"^'Run' matches 2 goals \(#1 Run a half marathon, #2 Run 10k\); give more"):
        life.find_goal(db, "Run")
    with pytest.raises(NotFound, match="^no active goal whose title starts with 'Read'$"):
        life.find_goal(db, "Read")  # done goals are named by id
    with pytest.raises(NotFound, match="^no goal with id 99$"):
        life.find_goal(db, "99")


def _user_data(db):
    return ([(a.company, a.role) for a in life.list_applications(db).items],
            [g.title for g in life.list_goals(db).items], [s.name for s in life.list_work_sessions(db).items],
            [d.name for d in life.list_domains(db)])


def test_demo_remove_takes_out_exactly_the_sample_rows(db):
    life.create_application(db, "Globex", "Designer", now=NOW)
    mine = life.create_goal(db, "Learn Spanish", now=NOW, domain_name="Growth")
    before = _user_data(db)
    assert life.load_demo(db, now=NOW) == life.DemoRows(applications=2, work_sessions=2, goals=2)
    assert life.load_demo(db, now=NOW) == life.DemoRows(applications=0, work_sessions=0, goals=0)  # not twice
    assert life.remove_demo(db) == life.DemoRows(applications=2, work_sessions=2, goals=2)
    assert _user_data(db) == before
    assert life.get_goal(db, mine.id) == mine
    assert life.remove_demo(db) == life.DemoRows(applications=0, work_sessions=0, goals=0)


def test_demo_remove_keeps_a_sample_named_row_the_person_added_and_a_domain_they_use(db):
    mine = life.create_application(db, "Acme Corp", "Backend Engineer", now=NOW, notes="my real one")
    life.load_demo(db, now=NOW)
    own_goal = life.create_goal(db, "Yoga weekly", now=NOW, domain_name="Health")  # in the demo's domain
    life.remove_demo(db)
    assert [a.id for a in life.list_applications(db).items] == [mine.id]
    assert [g.title for g in life.list_goals(db).items] == ["Yoga weekly"]
    assert [d.name for d in life.list_domains(db)] == ["Health"]  # still used by the person's goal
    assert life.get_goal(db, own_goal.id).domain == "Health"


def test_demo_loaded_before_rows_were_recorded_is_recognised_by_its_marks(db):
    from engine import runtime_state

    life.create_application(db, "Globex", "SRE", now=NOW, notes="mine, not the demo's")
    life.load_demo(db, now=NOW)  # Globex/SRE exists: the demo adds only Acme
    runtime_state.set_value(db, "demo.rows", None)  # as a demo loaded by an earlier version left it
    assert life.remove_demo(db) == life.DemoRows(applications=1, work_sessions=2, goals=2)
    assert _user_data(db) == ([("Globex", "SRE")], [], [], [])
