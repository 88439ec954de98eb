"""engine.life.applications on a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.life import applications
from engine.life.errors import LifeError, LifeErrorKind
from engine.timeutil import from_db, to_db, utcnow

NOW = utcnow().replace(microsecond=0)


def _kind(exc: pytest.ExceptionInfo[LifeError]) -> LifeErrorKind:
    return exc.value.kind


def test_create_list_update_delete(db):
    a = applications.create(db, company="Acme", role="SRE", now=NOW, applied_at=NOW - timedelta(days=8))
    b = applications.create(db, company="Globex_", role="Dev", now=NOW, url="https://x", notes="n")
    assert a.status == "applied" and from_db(a.applied_at) == NOW - timedelta(days=8) and a.updated_at == to_db(NOW)
    page = applications.list_page(db)
    assert page.total == 2 and [r.id for r in page.items] == [a.id, b.id]
    assert applications.list_page(db, limit=1, offset=1).items == (b,)
    changed = applications.update(db, a.id, {"status": "interviewing"}, NOW + timedelta(hours=1))
    assert changed.status == "interviewing" and changed.updated_at == to_db(NOW + timedelta(hours=1))
    applications.delete(db, b.id)
    with pytest.raises(LifeError) as missing:
        applications.get(db, b.id)
    assert _kind(missing) is LifeErrorKind.NOT_FOUND and str(missing.value) == f"no application with id {b.id}"


def test_company_filter_takes_like_wildcards_literally(db):
    applications.create(db, company="Globex_", role="Dev", now=NOW)
    applications.create(db, company="Globe%x", role="Dev", now=NOW)
    applications.create(db, company="GlobeAx", role="Dev", now=NOW)
    assert [a.company for a in applications.list_page(db, company="_").items] == ["Globex_"]
    assert [a.company for a in applications.list_page(db, company="e%").items] == ["Globe%x"]
    assert applications.list_page(db, company="globe").total == 3


def test_update_refuses_unknown_fields_nulls_and_missing_rows(db):
    a = applications.create(db, company="Acme", role="SRE", now=NOW)
    for changes, message in (({"id": 5}, "cannot change id"), ({"company": None}, "company cannot be null")):
        with pytest.raises(LifeError) as refused:
            applications.update(db, a.id, changes, NOW)
        assert _kind(refused) is LifeErrorKind.INVALID and str(refused.value) == message
    with pytest.raises(LifeError) as missing:
        applications.update(db, 999, {"status": "offer"}, NOW)
    assert _kind(missing) is LifeErrorKind.NOT_FOUND
    with pytest.raises(LifeError) as gone:
        applications.delete(db, 999)
    assert _kind(gone) is LifeErrorKind.NOT_FOUND
    assert applications.get(db, a.id) == a


def test_awaiting_answer_lists_applied_ones_old_enough_oldest_first(db):
    old = applications.create(db, company="Old", role="Dev", now=NOW, applied_at=NOW - timedelta(days=9))
    cutoff = applications.create(db, company="Cutoff", role="Dev", now=NOW, applied_at=NOW - timedelta(days=7))
    applications.create(db, company="Fresh", role="Dev", now=NOW, applied_at=NOW - timedelta(days=6))
    applications.create(db, company="No", role="Dev", now=NOW, status="rejected", applied_at=NOW - timedelta(days=30))
    assert applications.awaiting_answer(db, applied_before=NOW - timedelta(days=7)) == [old, cutoff]


def test_counts_for_the_weekly_digest(db):
    applications.create(db, company="A", role="Dev", now=NOW, applied_at=NOW - timedelta(days=10))
    applications.create(db, company="B", role="Dev", now=NOW, applied_at=NOW - timedelta(days=2))
    applications.create(db, company="C", role="Dev", now=NOW, status="offer", applied_at=NOW - timedelta(days=1))
    assert applications.count_awaiting_answer(db) == 2
    assert applications.count_applied_since(db, NOW - timedelta(days=7)) == 2


def test_exists_matches_company_and_role(db):
    applications.create(db, company="Acme", role="SRE", now=NOW)
    assert applications.exists(db, "Acme", "SRE")
    assert not applications.exists(db, "Acme", "Dev")
