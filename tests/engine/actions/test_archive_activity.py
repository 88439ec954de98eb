"""engine.actions.archive_activity: the heatmap per day of the configured zone, and tokens per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.actions import archive_activity
from engine.actions.errors import Invalid
from engine.actions.target import Offline
from engine.store.db import connection
from engine.timeutil import to_db
from engine.units import UNITS
from tests.engine.actions.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)  # 13:00 in Berlin


@pytest.fixture
def target(db) -> Offline:
    return Offline(db, quiet_config(general={"timezone": "Europe/Berlin"}), UNITS, now=lambda: NOW)


def session(db, sid: str, start: datetime, prompts: list[datetime], parent: str | None = None) -> None:
    last = max([start, *prompts])
    db.execute_sql("INSERT INTO conversation_archive_sessions (session_id, source, parent_session_id, first_ts,"
                   " last_ts, archived_at, updated_at) VALUES (?, 'claude', ?, ?, ?, ?, ?)",
                   (sid, parent, to_db(start), to_db(last), to_db(NOW), to_db(NOW)))
    for i, at in enumerate(prompts):
        db.execute_sql("INSERT INTO archive_entries (entry_key, session_id, file_id, byte_offset, line_no, kind, ts)"
                       " VALUES (?, ?, 1, ?, ?, 'prompt', ?)", (f"{sid}:{i}", sid, i, i, to_db(at)))


def test_heatmap_counts_sessions_and_prompts_per_local_day(target, db):
    late = datetime(2026, 2, 27, 23, 30, tzinfo=timezone.utc)  # 00:30 on Feb 28 in Berlin
    with connection(db):
        session(db, "a", late, [late, late + timedelta(minutes=5), NOW - timedelta(hours=1)])
        session(db, "b", NOW - timedelta(hours=2), [NOW - timedelta(hours=2)])
        session(db, "sub", NOW - timedelta(hours=2), [NOW - timedelta(hours=2)], parent="b")
        session(db, "old", NOW - timedelta(days=30), [NOW - timedelta(days=30)])
    heat = archive_activity.heatmap(target, days=3)
    assert [(d.day, d.sessions, d.prompts, d.level) for d in heat.days] == [
        (date(2026, 2, 27), 0, 0, 0), (date(2026, 2, 28), 1, 2, 4), (date(2026, 3, 1), 1, 2, 4)]
    assert heat.to_dict()["max_prompts"] == 2 and heat.zone == "Europe/Berlin"
    with pytest.raises(Invalid, match=r"^days must be from 1 to 400, not 0$"):
        archive_activity.heatmap(target, days=0)


def test_levels_scale_to_the_busiest_day():
    assert [archive_activity.level(n, 8) for n in (0, 1, 2, 3, 8)] == [0, 1, 1, 2, 4]
    assert archive_activity.level(3, 0) == 0


def test_token_usage_sums_messages_and_token_events_per_day_and_is_empty_without_them(target, db):
    assert archive_activity.token_usage(target) == ()
    with connection(db):
        session(db, "a", NOW - timedelta(days=1), [])
        for i, at in enumerate((NOW - timedelta(days=1), NOW - timedelta(hours=1))):
            db.execute_sql("INSERT INTO archive_messages (session_id, message_id, first_ts, input_tokens,"
                           " output_tokens, cache_read_tokens, cache_creation_tokens)"
                           " VALUES ('a', ?, ?, 10, 20, 30, 40)",
                           (f"m{i}", to_db(at)))
        db.execute_sql("UPDATE conversation_archive_sessions SET last_ts = ? WHERE session_id = 'a'",
                       (to_db(NOW),))
        db.execute_sql("INSERT INTO archive_token_events (event_key, session_id, ts, input_tokens, output_tokens,"
                       " cache_read_tokens) VALUES ('e', 'a', ?, 1, 2, 3)", (to_db(NOW - timedelta(hours=1)),))
    days = [d.to_dict() for d in archive_activity.token_usage(target, days=7)]
    assert days == [{"day": "2026-02-28", "input_tokens": 10, "output_tokens": 20, "cache_read_tokens": 30,
                     "cache_creation_tokens": 40},
                    {"day": "2026-03-01", "input_tokens": 11, "output_tokens": 22, "cache_read_tokens": 33,
                     "cache_creation_tokens": 40}]


def test_heatmap_ending_on_a_past_day_ignores_later_days_when_scaling(target, db):
    with connection(db):
        session(db, "early", NOW - timedelta(days=10), [NOW - timedelta(days=10)])
        session(db, "busy", NOW - timedelta(hours=3), [NOW - timedelta(hours=3)] * 4)
    heat = archive_activity.heatmap(target, days=3, until=date(2026, 2, 20))
    assert [d.day for d in heat.days] == [date(2026, 2, 18), date(2026, 2, 19), date(2026, 2, 20)]
    assert [(d.prompts, d.level) for d in heat.days] == [(0, 0), (1, 4), (0, 0)]
