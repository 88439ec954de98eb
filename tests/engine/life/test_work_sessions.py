"""engine.life.work_sessions on a real SQLite file: the manual life cycle and the transcript-backed one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.life import work_sessions
from engine.life.errors import LifeError, LifeErrorKind
from engine.timeutil import to_db, utcnow

NOW = utcnow().replace(microsecond=0)


def test_start_activity_end(db):
    s = work_sessions.start(db, name="refactor", now=NOW - timedelta(minutes=10), cwd="/src")
    assert s.status == "active" and s.source == "api" and s.last_activity_at == s.started_at
    assert work_sessions.record_activity(db, s.id, NOW).last_activity_at == to_db(NOW)
    ended = work_sessions.end(db, s.id, NOW)
    assert ended.status == "ended" and ended.ended_at == to_db(NOW)
    assert work_sessions.list_page(db, status="ended").items == (ended,)
    assert work_sessions.list_page(db, status="active").total == 0


def test_activity_never_moves_backwards(db):
    s = work_sessions.start(db, name="x", now=NOW)
    assert work_sessions.record_activity(db, s.id, NOW - timedelta(hours=1)).last_activity_at == to_db(NOW)


def test_only_an_active_session_takes_activity_or_ends(db):
    s = work_sessions.start(db, name="x", now=NOW)
    work_sessions.end(db, s.id, NOW, status="abandoned")
    with pytest.raises(LifeError) as activity:
        work_sessions.record_activity(db, s.id, NOW)
    assert activity.value.kind is LifeErrorKind.CONFLICT and str(activity.value) == f"work session {s.id} is abandoned"
    with pytest.raises(LifeError) as again:
        work_sessions.end(db, s.id, NOW)
    assert again.value.kind is LifeErrorKind.CONFLICT and "already abandoned" in str(again.value)
    with pytest.raises(LifeError) as missing:
        work_sessions.record_activity(db, 12345, NOW)
    assert missing.value.kind is LifeErrorKind.NOT_FOUND


def test_open_sessions_are_the_active_unended_ones(db):
    live = work_sessions.start(db, name="live", now=NOW, source="demo", last_activity_at=NOW + timedelta(minutes=5),
                               interrupted_reason="prompt without answer")
    work_sessions.end(db, work_sessions.start(db, name="done", now=NOW).id, NOW)
    assert work_sessions.open_sessions(db) == [live]
    assert live.interrupted_reason == "prompt without answer" and live.last_activity_at > live.started_at
    assert work_sessions.exists_named(db, "done") and not work_sessions.exists_named(db, "other")


def test_watched_session_is_upserted_by_transcript_id_then_closed(db):
    def watched(**changes):
        values = {"external_id": "abc", "name": "t", "source": "claude", "cwd": "/p",
                  "started_at": "2026-01-01T00:00:00Z", "last_activity_at": "2026-01-01T01:00:00Z",
                  "interrupted_reason": None, **changes}
        work_sessions.upsert_watched(db, **values)

    watched()
    watched(name="t2", cwd=None, last_activity_at="2026-01-01T02:00:00Z", interrupted_reason="x")
    manual = work_sessions.start(db, name="manual", now=NOW)
    (session,) = [s for s in work_sessions.list_page(db).items if s.external_id == "abc"]
    assert (session.name, session.cwd, session.last_activity_at, session.interrupted_reason) == (
        "t2", "/p", "2026-01-01T02:00:00Z", "x")
    assert work_sessions.active_external_ids(db, ("claude", "codex")) == ["abc"]
    work_sessions.close_watched(db, "abc", "stalled", "x")
    closed = work_sessions.get(db, session.id)
    assert closed.status == "stalled" and closed.ended_at == closed.last_activity_at
    assert work_sessions.active_external_ids(db, ("claude", "codex")) == []
    watched()  # the transcript moved again: active once more, no longer ended
    reopened = work_sessions.get(db, session.id)
    assert reopened.status == "active" and reopened.ended_at is None
    assert work_sessions.get(db, manual.id).status == "active"
