"""/applied and /progress from the phone: a real started Engine, the real Bot API fake, real SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.actions import life
from engine.chat.life import split_company_role
from engine.engine import Engine
from engine.store.db import connection
from tests.delivery_helpers import CHAT, start_telegram_demo_engine
from tests.fakes.telegram_api import FakeTelegramServer
from tests.helpers import wait_until


@pytest.fixture
def engine(wk_home, fake: FakeTelegramServer) -> Iterator[Engine]:
    eng = start_telegram_demo_engine(wk_home, fake)
    yield eng
    eng.stop("test")


def _reply(fake: FakeTelegramServer, command: str, start: str) -> str:
    fake.push_command(CHAT, command)
    message = wait_until(lambda: next((m for m in fake.messages if m.text.startswith(start)), None), timeout=15,
                         message=f"the reply to {command!r}")
    return message.text


@pytest.mark.parametrize("text", [f"Initech{sep}Senior Engineer" for sep in (
    " — ", " – ", "—", " -- ", "--", " - ")])
def test_company_and_role_split_at_each_accepted_separator(text):
    assert split_company_role(text) == ("Initech", "Senior Engineer")


def test_a_hyphen_inside_a_name_is_no_separator():
    assert split_company_role("Hewlett-Packard — Site-Reliability Engineer") == (
        "Hewlett-Packard", "Site-Reliability Engineer")
    assert split_company_role("Hewlett-Packard SRE") is None
    assert split_company_role("— SRE") is None


def test_applied_records_an_application_from_the_chat(engine, fake):
    text = _reply(fake, "/applied Initech — Senior Engineer", "Recorded application")
    assert "Senior Engineer at Initech" in text
    with connection(engine.db):
        [app] = [a for a in life.list_applications(engine.db).items if a.company == "Initech"]
    assert (app.role, app.status) == ("Senior Engineer", "applied")


def test_applied_without_a_separator_answers_with_the_usage_and_records_nothing(engine, fake):
    text = _reply(fake, "/applied Initech Senior Engineer", "Usage: /applied COMPANY — ROLE")
    assert "for example" in text
    with connection(engine.db):
        assert not [a for a in life.list_applications(engine.db).items if a.company.startswith("Initech")]


def test_progress_names_a_goal_by_the_start_of_its_title_and_keeps_the_rest_as_the_note(engine, fake):
    text = _reply(fake, "/progress run a half ran 12 km today", "Progress on goal")
    assert "Run a half marathon" in text and "ran 12 km today" in text
    with connection(engine.db):
        goal = life.find_goal(engine.db, "Run a half")
        [latest, *_] = life.list_progress(engine.db, goal.id).items
    assert latest.note == "ran 12 km today"


def test_progress_by_id_and_an_unknown_goal_gets_a_clear_answer(engine, fake):
    with connection(engine.db):
        goal = life.find_goal(engine.db, "Sleep")
    assert "Sleep 8 hours" in _reply(fake, f"/progress {goal.id} slept well", "Progress on goal")
    assert "give its id or the start of its title" in _reply(fake, "/progress Zebra taming done", "No active goal")
    assert "Usage: /progress GOAL NOTE" in _reply(fake, "/progress", "Usage: /progress")


def test_an_ambiguous_title_prefix_names_the_candidates(engine, fake):
    with connection(engine.db):
        life.create_goal(engine.db, "Run 10k under 50 min", now=engine.now())
    text = _reply(fake, "/progress Run did intervals", "Not recorded")
    assert "matches 2 goals" in text and "Run a half marathon" in text and "Run 10k under 50 min" in text
