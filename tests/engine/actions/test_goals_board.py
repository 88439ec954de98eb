"""engine.actions.goals_board: domains, goals with sub-goals and dependencies, and staleness."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.actions.goals_board import goals_board
from engine.actions.target import Offline
from engine.life import goals
from engine.store.db import connection
from engine.units import UNITS
from tests.engine.actions.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_board_shows_each_goal_with_its_parts_and_staleness_against_the_checks_threshold(db):
    target = Offline(db, quiet_config(checks={"goal_staleness": {"days": 10}}), UNITS, now=lambda: NOW)
    with connection(db):
        health = goals.create_domain(db, name="Health", now=NOW)
        run = goals.create(db, title="Run 10k", now=NOW - timedelta(days=30), domain_id=health.id)
        read = goals.create(db, title="Read", now=NOW - timedelta(days=30))
        done = goals.create(db, title="Old", now=NOW - timedelta(days=30), status="done")
        goals.add_sub_goal(db, run.id, title="5k first", now=NOW)
        goals.add_dependency(db, run.id, read.id)
        goals.add_progress(db, read.id, now=NOW - timedelta(days=3), note="chapter 1")
    board = goals_board(target)
    assert board.stale_after_days == 10 and [d.name for d in board.domains] == ["Health"]
    cards = {c.goal.goal.title: c for c in board.goals}
    assert (cards["Run 10k"].idle_days, cards["Run 10k"].stale) == (30, True)
    assert (cards["Read"].idle_days, cards["Read"].stale) == (3, False)
    assert (cards["Old"].stale, cards["Old"].goal.goal.id) == (False, done.id)
    run_card = cards["Run 10k"].to_dict()
    assert run_card["domain"] == "Health" and run_card["depends_on"] == [read.id]
    assert [s["title"] for s in run_card["sub_goals"]] == ["5k first"]


def test_threshold_is_the_checks_default_when_not_configured(db):
    assert goals_board(Offline(db, quiet_config(), UNITS, now=lambda: NOW)).stale_after_days == 14
