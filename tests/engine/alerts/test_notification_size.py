"""A grouped notification's size is bounded: 20 subjects listed, the rest counted; long lines clipped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.alerts.dispatcher import MAX_LINE, MAX_SUBJECTS, Dispatcher
from engine.channels.telegram.format import format_text
from engine.findings import Finding

NOW = datetime(2026, 2, 22, 10, 15, tzinfo=timezone.utc)


def test_past_20_subjects_the_rest_are_summarised_as_and_n_more(db):
    findings = [Finding(f"file:{i}", "warning", f"file {i:03d} is stale", "x" * 3000) for i in range(160)]
    Dispatcher(db).dispatch("big_check", findings, timedelta(hours=1), NOW)
    [(title, body)] = db.execute_sql("SELECT title, body FROM notifications").fetchall()
    assert title == "Big check: 160 need attention"  # the count is still the whole truth
    listed = [line for line in body.splitlines() if line.startswith("• ")]
    assert len(listed) == MAX_SUBJECTS
    assert body.splitlines()[-1] == "… and 140 more"
    assert max(len(line) for line in body.splitlines()) <= MAX_LINE
    assert len(format_text(body, title=title)) <= 3  # a few Telegram messages, not 51+


def test_up_to_20_subjects_are_all_listed(db):
    findings = [Finding(f"file:{i}", "warning", f"file {i} is stale") for i in range(MAX_SUBJECTS)]
    Dispatcher(db).dispatch("big_check", findings, timedelta(hours=1), NOW)
    [(body,)] = db.execute_sql("SELECT body FROM notifications").fetchall()
    assert len(body.splitlines()) == MAX_SUBJECTS and "more" not in body
