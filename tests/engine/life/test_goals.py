"""engine.life.goals on a real SQLite file: domains, goals, sub-goals, dependencies, progress, staleness."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.life import goals
from engine.life.errors import LifeError, LifeErrorKind
from engine.timeutil import to_db, utcnow

NOW = utcnow().replace(microsecond=0)


def _refused(kind: LifeErrorKind, fn, *args, **kwargs) -> str:
    with pytest.raises(LifeError) as exc:
        fn(*args, **kwargs)
    assert exc.value.kind is kind
    return str(exc.value)


def test_domains_are_unique_by_name(db):
    health = goals.create_domain(db, name="Health", now=NOW, description="body")
    assert _refused(LifeErrorKind.CONFLICT, goals.create_domain, db, name="Health", now=NOW) == \
        "a domain named 'Health' exists"
    assert goals.ensure_domain(db, name="Health", now=NOW) == health
    career = goals.ensure_domain(db, name="Career", now=NOW)
    assert goals.list_domains(db) == [career, health]


def test_goal_create_update_and_list(db):
    health = goals.create_domain(db, name="Health", now=NOW)
    run = goals.create(db, title="Half marathon", now=NOW, domain_id=health.id, target_date=date(2030, 5, 1))
    assert (run.domain, run.target_date, run.status) == ("Health", "2030-05-01", "active")
    refused = _refused(LifeErrorKind.INVALID, goals.create, db, title="x", now=NOW, domain_id=999)
    assert refused == "no domain with id 999"
    moved = goals.update(db, run.id, {"domain_id": None, "target_date": None, "status": "paused"})
    assert (moved.domain, moved.target_date, moved.status) == (None, None, "paused")
    assert _refused(LifeErrorKind.INVALID, goals.update, db, run.id, {"created_at": "x"}) == "cannot change created_at"
    assert _refused(LifeErrorKind.INVALID, goals.update, db, run.id, {"title": None}) == "title cannot be null"
    assert _refused(LifeErrorKind.NOT_FOUND, goals.update, db, 999, {}) == "no goal with id 999"
    assert goals.list_page(db, status="paused").items == (moved,)
    assert goals.list_page(db, domain_id=health.id).total == 0
    assert goals.exists_titled(db, "Half marathon") and not goals.exists_titled(db, "Sleep")


def test_sub_goal_done_counts_as_progress_and_reopening_clears_done_at(db):
    run = goals.create(db, title="Run", now=NOW - timedelta(days=30))
    sub = goals.add_sub_goal(db, run.id, title="10k", now=NOW)
    assert sub.status == "open" and sub.done_at is None
    done = goals.update_sub_goal(db, sub.id, {"status": "done"}, NOW)
    assert done.done_at == to_db(NOW) and goals.get(db, run.id).last_progress_at == to_db(NOW)
    reopened = goals.update_sub_goal(db, sub.id, {"status": "open", "title": "12k"}, NOW)
    assert (reopened.status, reopened.done_at, reopened.title) == ("open", None, "12k")
    assert _refused(LifeErrorKind.INVALID, goals.update_sub_goal, db, sub.id, {"goal_id": 2}, NOW) == \
        "cannot set goal_id to 2"
    assert _refused(LifeErrorKind.NOT_FOUND, goals.add_sub_goal, db, 999, title="x", now=NOW) == "no goal with id 999"


def test_dependency_cycles_are_refused_also_through_other_goals(db):
    a, b, c = (goals.create(db, title=t, now=NOW).id for t in "abc")
    assert goals.add_dependency(db, a, b) == goals.Dependency(a, b)
    goals.add_dependency(db, b, c)
    assert _refused(LifeErrorKind.CONFLICT, goals.add_dependency, db, c, a) == \
        f"goal {a} already depends on goal {c} (a cycle)"
    assert _refused(LifeErrorKind.INVALID, goals.add_dependency, db, a, a) == "a goal cannot depend on itself"
    assert _refused(LifeErrorKind.INVALID, goals.add_dependency, db, a, 999) == "no goal with id 999"
    assert _refused(LifeErrorKind.NOT_FOUND, goals.add_dependency, db, 999, a) == "no goal with id 999"
    goals.add_dependency(db, a, b)  # again: no duplicate
    assert goals.detail(db, a).depends_on == (b,)
    assert goals.remove_dependency(db, a, b) == goals.Dependency(a, b)
    refused = _refused(LifeErrorKind.NOT_FOUND, goals.remove_dependency, db, a, b)
    assert refused == f"goal {a} does not depend on goal {b}"


def test_progress_updates_move_last_progress_forward_only(db):
    run = goals.create(db, title="Run", now=NOW - timedelta(days=30))
    p = goals.add_progress(db, run.id, now=NOW, value=5.5, note="5 km")
    assert (p.value, p.note, p.ts) == (5.5, "5 km", to_db(NOW))
    goals.add_progress(db, run.id, now=NOW, ts=NOW - timedelta(days=3))
    assert goals.get(db, run.id).last_progress_at == to_db(NOW)
    assert [x.ts for x in goals.list_progress(db, run.id).items] == [to_db(NOW), to_db(NOW - timedelta(days=3))]
    assert goals.detail(db, run.id, progress=1).recent_progress == (p,)
    assert _refused(LifeErrorKind.NOT_FOUND, goals.list_progress, db, 999) == "no goal with id 999"


def test_detail_gathers_sub_goals_dependencies_and_progress(db):
    run, sleep = goals.create(db, title="Run", now=NOW), goals.create(db, title="Sleep", now=NOW)
    sub = goals.add_sub_goal(db, run.id, title="10k", now=NOW)
    goals.add_dependency(db, run.id, sleep.id)
    p = goals.add_progress(db, run.id, now=NOW)
    found = goals.detail(db, run.id)
    assert found == goals.GoalDetail(goals.get(db, run.id), (sub,), (sleep.id,), (p,))


def test_stale_goals_use_the_newest_progress_else_last_progress_else_creation(db):
    old = NOW - timedelta(days=60)
    by_update = goals.create(db, title="By update", now=old)
    goals.add_progress(db, by_update.id, now=NOW - timedelta(days=20))
    fresh = goals.create(db, title="Fresh update", now=old)
    goals.add_progress(db, fresh.id, now=NOW - timedelta(days=3))
    health = goals.create_domain(db, name="Health", now=old)
    by_creation = goals.create(db, title="Never moved", now=old, domain_id=health.id)
    goals.update(db, goals.create(db, title="Done", now=old).id, {"status": "done"})
    stale = goals.stale(db, no_progress_since=NOW - timedelta(days=14))
    assert stale == [goals.StaleGoal(by_creation.id, "Never moved", "Health", to_db(old)),
                     goals.StaleGoal(by_update.id, "By update", None, to_db(NOW - timedelta(days=20)))]


def test_counts_for_the_weekly_digest(db):
    run = goals.create(db, title="Run", now=NOW)
    goals.update(db, goals.create(db, title="Done", now=NOW).id, {"status": "done"})
    goals.add_progress(db, run.id, now=NOW)
    goals.add_progress(db, run.id, now=NOW, ts=NOW - timedelta(days=8))
    assert goals.count_active(db) == 1
    assert goals.count_progress_since(db, NOW - timedelta(days=7)) == 1
