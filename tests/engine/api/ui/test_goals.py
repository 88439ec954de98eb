"""The Goals page: domains, goals with sub-goals, dependencies and staleness in words; the add
form (domain created by name), "Log progress" and "Done"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from engine.actions import life
from engine.actions.errors import Invalid
from engine.api.ui.pages.goals import field_of, parse_value
from engine.store.db import connection
from tests.engine.api.ui.conftest import WRITE_HEADERS


def _goals(engine):
    with connection(engine.db) as db:
        return list(life.list_goals(db).items)


def test_the_board_shows_domains_goals_sub_goals_dependencies_and_staleness(visitor, login, engine):
    old = engine.now() - timedelta(days=20)
    with connection(engine.db) as db:
        base = life.create_goal(db, "Run a 10k", now=old, domain_name="Health")
        later = life.create_goal(db, "Run a half marathon", now=engine.now(), domain_name="Health")
        life.add_dependency(db, later.id, base.id)
        life.add_sub_goal(db, later.id, "Buy shoes", now=engine.now())
        life.create_goal(db, "Learn Rust", now=engine.now())
    login(visitor)
    page = visitor.get("/ui/goals").text
    assert '<a href="/ui/goals" aria-current="page">Goals</a>' in page
    assert re.search(r'<h3 id="domain-\d+">Health</h3>', page) and '<h3 id="domain-none">No domain</h3>' in page
    assert "stale: 20 days without progress" in page
    assert page.count("without progress</p>") == 1  # the fresh goals are not stale
    assert "Buy shoes" in page and f'<a href="#goal-{base.id}">Run a 10k</a>' in page
    for label in ("Title", "Domain", "Target date"):
        assert re.search(rf'<label for="goal-[a-z]+">{label}</label>', page)
    assert ">Add goal</button>" in page and page.count(">Log progress</button>") == 3
    assert page.count(">Done</button>") == 3
    assert "style=" not in page and not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page)


def test_adding_a_goal_creates_its_domain_by_name(visitor, login, engine):
    login(visitor)
    answer = visitor.post("/ui/goals", headers=WRITE_HEADERS,
                          data={"title": "Ship v2", "domain": "Career", "target": "2026-12-31"})
    assert answer.status_code == 200 and "Added goal Ship v2 in Career." in answer.text
    (goal,) = _goals(engine)
    assert (goal.title, goal.domain, goal.target_date) == ("Ship v2", "Career", "2026-12-31")
    assert '<section id="goals-board" aria-labelledby="goals-board-heading" hx-swap-oob="true">' in answer.text
    visitor.post("/ui/goals", headers=WRITE_HEADERS, data={"title": "Ship v3", "domain": "Career", "target": ""})
    with connection(engine.db) as db:
        assert [d.name for d in life.list_domains(db)] == ["Career"]


def test_a_refused_goal_names_the_field(visitor, login, engine):
    login(visitor)
    answer = visitor.post("/ui/goals", headers=WRITE_HEADERS, data={"title": "", "domain": "", "target": ""})
    assert "title must be 1 to 200 characters" in answer.text
    assert re.search(r'id="goal-title"[^>]*aria-invalid="true"', answer.text)
    bad = visitor.post("/ui/goals", headers=WRITE_HEADERS, data={"title": "X", "target": "next year"})
    assert "Target date: &#39;next year&#39; is not a date" in bad.text
    assert re.search(r'id="goal-target"[^>]*aria-invalid="true"', bad.text) and 'value="X"' in bad.text
    assert _goals(engine) == []


def test_logging_progress_records_it_and_clears_staleness(visitor, login, engine):
    with connection(engine.db) as db:
        goal = life.create_goal(db, "Write a book", now=engine.now() - timedelta(days=30))
    login(visitor)
    assert "stale: 30 days without progress" in visitor.get("/ui/goals").text
    answer = visitor.post(f"/ui/goals/{goal.id}/progress", headers=WRITE_HEADERS,
                          data={"note": "chapter 1", "value": "12.5"})
    assert answer.status_code == 200 and "Progress logged." in answer.text
    assert "stale:" not in answer.text
    with connection(engine.db) as db:
        (update,) = life.list_progress(db, goal.id).items
    assert (update.note, update.value) == ("chapter 1", 12.5)
    refused = visitor.post(f"/ui/goals/{goal.id}/progress", headers=WRITE_HEADERS, data={"note": "", "value": "lots"})
    assert "Value: &#39;lots&#39; is not a number" in refused.text


def test_done_marks_the_goal_done(visitor, login, engine):
    with connection(engine.db) as db:
        goal = life.create_goal(db, "Learn Rust", now=engine.now())
    login(visitor)
    answer = visitor.post(f"/ui/goals/{goal.id}/done", headers=WRITE_HEADERS)
    assert "Marked done." in answer.text and _goals(engine)[0].status == "done"
    assert ">Done</button>" not in answer.text
    missing = visitor.post("/ui/goals/999/done", headers=WRITE_HEADERS)
    assert "no goal with id 999" in missing.text


def test_progress_values_are_parsed_with_errors_naming_the_field():
    assert parse_value("") is None and parse_value("3") == 3.0
    with pytest.raises(Invalid, match="Value: 'x' is not a number"):
        parse_value("x")
    with pytest.raises(Invalid, match="finite"):
        parse_value("inf")
    assert field_of("title must be 1 to 200 characters") == "title"
    assert field_of("target_date out of range (years 1900-9999)") == "target"
