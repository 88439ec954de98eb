"""The Alerts page and its row actions (in process, through the dashboard's guard)."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from engine.actions import alerts, checks
from engine.api.ui.pages.alerts import PAGE_SIZE
from engine.demo import load_demo
from engine.store.db import connection
from tests.engine.api.ui.conftest import WRITE_HEADERS


@pytest.fixture
def opened(engine) -> list[int]:
    """The demo data loaded and every check run: the life checks open their alerts."""
    with connection(engine.db):
        load_demo(engine.db, engine.now())
    checks.run_checks(engine, None, "test")
    ids = [a.id for a in alerts.list_alerts(engine).items]
    assert ids, "the demo opens alerts"
    return ids


def rows(page: str) -> list[str]:
    return re.findall(r'<tr id="alert-(\d+)"', page)


def test_the_page_lists_each_alert_with_check_in_words_subject_times_and_actions(visitor, login, engine, opened):
    login(visitor)
    answer = visitor.get("/ui/alerts")
    assert answer.status_code == 200
    page = answer.text
    assert rows(page) == [str(i) for i in opened]
    alert = alerts.get_alert(engine, opened[0])
    assert escape(alert.subject) in page and escape(alert.title) in page
    words = alert.check_name.replace("_", " ").capitalize()
    assert f'<a href="/ui/checks/{alert.check_name}">{words}</a>' in page
    for column in ("Alert", "Check", "State", "First seen", "Last notified", "Deliveries", "Actions"):
        assert f'<th scope="col">{column}</th>' in page
    assert f'hx-post="/ui/alerts/{alert.id}/acknowledge"' in page
    assert ">Snooze 1 h</button>" in page and ">Snooze 1 d</button>" in page
    assert f'<label for="snooze-{alert.id}">Snooze for</label>' in page
    assert '<a href="/ui/alerts" aria-current="page">Alerts</a>' in page


def test_the_state_filter_and_the_check_filter_come_from_the_query(visitor, login, engine, opened):
    alerts.acknowledge(engine, opened[0])
    login(visitor)
    acknowledged = visitor.get("/ui/alerts?state=acknowledged").text
    assert rows(acknowledged) == [str(opened[0])]
    assert '<a href="/ui/alerts?state=acknowledged" aria-current="page">Acknowledged</a>' in acknowledged
    assert rows(visitor.get("/ui/alerts?state=open").text) == [str(i) for i in opened[1:]]
    one = alerts.get_alert(engine, opened[1]).check_name
    by_check = visitor.get(f"/ui/alerts?check={one}").text
    assert rows(by_check) == [str(a.id) for a in alerts.list_alerts(engine, check=one).items]
    assert f'<option value="{one}" selected>' in by_check
    assert rows(visitor.get("/ui/alerts?state=resolved").text) == []


def test_a_bad_filter_is_answered_400_naming_the_problem(visitor, login, opened):
    login(visitor)
    bad_state = visitor.get("/ui/alerts?state=gone")
    assert bad_state.status_code == 400 and "state must be one of" in bad_state.text
    bad_page = visitor.get("/ui/alerts?page=zero")
    assert bad_page.status_code == 400 and "page must be a whole number from 1, not &#39;zero&#39;" in bad_page.text


def test_the_list_is_paged_with_links_that_keep_the_filters(visitor, login, engine):
    from tests.engine.actions import dashboard_rows

    with connection(engine.db):
        for i in range(PAGE_SIZE + 3):
            dashboard_rows.alert(engine.db, "disk", f"/v{i}", engine.now(), "open")
    login(visitor)
    first = visitor.get("/ui/alerts?state=open&check=disk").text
    assert len(rows(first)) == PAGE_SIZE and "page 1 of 2" in first
    assert '<a href="/ui/alerts?state=open&amp;check=disk&amp;page=2" rel="next">Older</a>' in first
    second = visitor.get("/ui/alerts?state=open&check=disk&page=2").text
    assert len(rows(second)) == 3 and 'rel="prev">Newer</a>' in second


def test_acknowledge_changes_the_engine_state_and_answers_the_updated_row(visitor, login, engine, opened):
    login(visitor)
    answer = visitor.post(f"/ui/alerts/{opened[0]}/acknowledge", headers=WRITE_HEADERS)
    assert answer.status_code == 200
    assert alerts.get_alert(engine, opened[0]).state == "acknowledged"
    assert answer.text.lstrip().startswith(f'<tr id="alert-{opened[0]}"')
    assert '<span class="state-word">acknowledged</span>' in answer.text
    assert "Acknowledged: not notified again until it resolves." in answer.text
    assert "<html" not in answer.text and ">Acknowledge</button>" not in answer.text


@pytest.mark.parametrize("length, hours", [("1h", 1), ("1d", 24), ("90m", 1.5)])
def test_snooze_for_a_quick_or_custom_duration_changes_the_engine_state(visitor, login, engine, opened, length,
                                                                          hours):
    login(visitor)
    answer = visitor.post(f"/ui/alerts/{opened[0]}/snooze", content=f"duration={length}",
                          headers={**WRITE_HEADERS, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    alert = alerts.get_alert(engine, opened[0])
    assert alert.state == "snoozed"
    assert abs((alert.snoozed_until - engine.now()).total_seconds() - hours * 3600) < 120
    assert "Snoozed until <time datetime=" in answer.text


@pytest.mark.parametrize("body, message", [("duration=soon", "soon"), ("duration=", "type a duration")])
def test_a_bad_snooze_duration_shows_its_message_and_changes_nothing(visitor, login, engine, opened, body, message):
    login(visitor)
    answer = visitor.post(f"/ui/alerts/{opened[0]}/snooze", content=body,
                          headers={**WRITE_HEADERS, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    assert re.search(r'<p class="refusal" role="alert">[^<]*' + re.escape(message), answer.text)
    assert alerts.get_alert(engine, opened[0]).state == "open"


def test_a_refused_action_on_a_resolved_or_unknown_alert_shows_the_message(visitor, login, engine, opened):
    with connection(engine.db):
        engine.db.execute_sql("UPDATE alerts SET state = 'resolved', resolved_at = opened_at WHERE id = ?",
                              (opened[0],))
    login(visitor)
    resolved = visitor.post(f"/ui/alerts/{opened[0]}/acknowledge", headers=WRITE_HEADERS).text
    assert f"alert {opened[0]} is already resolved" in resolved and "state-resolved" in resolved
    unknown = visitor.post("/ui/alerts/999999/snooze", content="duration=1h",
                           headers={**WRITE_HEADERS, "Content-Type": "application/x-www-form-urlencoded"}).text
    assert '<tr id="alert-999999"' in unknown and "no alert with id 999999" in unknown


def test_a_foreign_origin_or_a_missing_header_is_refused_and_changes_nothing(visitor, login, engine, opened):
    login(visitor)
    foreign = visitor.post(f"/ui/alerts/{opened[0]}/acknowledge",
                           headers={"Origin": "http://127.0.0.1:9999", "X-WK-UI": "1"})
    bare = visitor.post(f"/ui/alerts/{opened[0]}/snooze", content="duration=1h",
                        headers={"Origin": WRITE_HEADERS["Origin"]})
    assert (foreign.status_code, bare.status_code) == (403, 403)
    assert alerts.get_alert(engine, opened[0]).state == "open"


def test_a_snooze_body_over_the_cap_is_refused(visitor, login, engine, opened):
    login(visitor)
    answer = visitor.post(f"/ui/alerts/{opened[0]}/snooze", content="duration=" + "1" * 4096,
                          headers={**WRITE_HEADERS, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413
    assert alerts.get_alert(engine, opened[0]).state == "open"
