"""The Checks pages: the list, one check's detail (configuration with secrets hidden, why, uptime,
paged decisions, last run) and "Run now"."""

from __future__ import annotations

import re

from tests.engine.api.ui.conftest import WRITE_HEADERS


def test_the_list_names_each_check_in_words_with_kind_schedule_and_its_24h_strip(firing_visitor, firing_engine):
    page = firing_visitor.get("/ui/checks").text
    assert re.findall(r'<tr data-check="([^"]+)">', page) == list(firing_engine.checks.definitions)
    assert '<a href="/ui/checks/disk_space">Disk space</a>' in page
    assert "<td>every 24h</td>" in page
    assert page.count('role="img" aria-label="Last 24 hours:') == len(firing_engine.checks.definitions)
    assert '<a href="/ui/checks" aria-current="page">Checks</a>' in page


def test_the_detail_shows_configuration_why_uptime_and_the_last_runs_findings(firing_visitor):
    firing_visitor.post("/ui/checks/disk_space/run", headers=WRITE_HEADERS)
    page = firing_visitor.get("/ui/checks/disk_space").text
    assert "<dt>Schedule</dt><dd>every 24h</dd>" in page
    assert "<code>min_free_gb</code></th><td><code>1000000</code>" in page
    assert re.search(r'<pre id="check-why" class="why">Check: disk_space\n  Last notified: ', page)
    assert "Result: SUPPRESSED" in page  # just sent: inside the cooldown
    assert re.search(r'<th scope="row">Last 24 hours</th>\s*<td>1</td>', page)
    assert '<th scope="row">Last 30 days</th>' in page
    assert '<span class="decision decision-sent">SENT</span>' in page
    assert "<h3 class=\"findings-heading\">Findings</h3>" in page and "free" in page


def test_run_now_answers_with_the_outcome_and_the_new_explanation(firing_visitor):
    answer = firing_visitor.post("/ui/checks/disk_space/run", headers=WRITE_HEADERS).text
    assert "1 check run: 1 alert" in answer
    assert '<pre id="check-why" class="why" hx-swap-oob="true">Check: disk_space' in answer
    assert '<div id="check-last" hx-swap-oob="innerHTML">' in answer


def test_decision_history_is_paged_newest_first(firing_visitor, firing_engine):
    from engine.api.ui.pages.checks import DECISIONS_PER_PAGE

    for _ in range(DECISIONS_PER_PAGE + 2):
        firing_visitor.post("/ui/checks/disk_space/run", headers=WRITE_HEADERS)
    first = firing_visitor.get("/ui/checks/disk_space").text
    total = DECISIONS_PER_PAGE + 2
    assert f"1–{DECISIONS_PER_PAGE} of {total}" in first
    assert f'href="/ui/checks/disk_space?offset={DECISIONS_PER_PAGE}#decisions">Older</a>' in first
    second = firing_visitor.get(f"/ui/checks/disk_space?offset={DECISIONS_PER_PAGE}").text
    assert f"{DECISIONS_PER_PAGE + 1}–{total} of {total}" in second
    assert 'href="/ui/checks/disk_space?offset=0#decisions">Newer</a>' in second
    assert second.count("decision decision-") == 2


def test_an_unknown_check_is_404_naming_the_known_ones(firing_visitor):
    answer = firing_visitor.get("/ui/checks/disk_spcae")
    assert answer.status_code == 404
    assert "no check named &#39;disk_spcae&#39;; checks: " in answer.text and "disk_space" in answer.text


def test_secrets_in_a_checks_parameters_are_never_shown(wk_home, tokens, logins):
    from fastapi.testclient import TestClient

    from engine.api.http import create_app
    from engine.engine import Engine
    from engine.units import UNITS
    from tests.engine.api.conftest import QUIET_CHECKS, engine_config
    from tests.engine.api.ui.conftest import BASE, PORT, post_token

    checks = {name: {"enabled": False} for name in QUIET_CHECKS}
    checks["endpoint"] = {"enabled": False, "urls": ["https://robot:hunter2-secret@example.invalid/health"]}
    engine = Engine(wk_home, engine_config(checks=checks), UNITS)
    engine.start()
    try:
        with TestClient(create_app(engine, tokens, port=PORT, logins=logins), base_url=BASE) as client:
            post_token(client, logins.mint())
            page = client.get("/ui/checks/endpoint").text
    finally:
        engine.stop("test")
    assert "hunter2" not in page
    assert "https://robot:***@example.invalid/health" in page
