"""GET /metrics: Prometheus text parsed by prometheus_client's own parser, values as the database
holds them after a real check run; the token rules (none: 401, the scrape token: /metrics only)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.api.tokens import ensure_token

from .conftest import engine_config


def scrape(client, headers=None) -> dict[str, list]:
    r = client.get("/metrics", headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def labelled(samples, name: str, key: str) -> dict[str, float]:
    return {s.labels[key]: s.value for s in samples if s.name == name}


def test_metrics_match_the_database_after_a_check_run(client, engine):
    assert client.post("/applications", json={"company": "Acme", "role": "Dev", "applied_at": "2020-01-02T00:00:00Z"}
                       ).status_code == 201
    assert client.post("/checks/stale_applications/run").json()["runs"][0]["outcome"] == "firing"
    client.post("/checks/run")
    families = scrape(client)
    db = engine.db
    runs = {(c, o): n for c, o, n in db.execute_sql(
        "SELECT check_name, outcome, count(*) FROM check_runs GROUP BY check_name, outcome").fetchall()}
    assert runs[("stale_applications", "firing")] == 2
    got = {(s.labels["check"], s.labels["outcome"]): s.value
           for s in families["watchkeeper_check_runs"] if s.name == "watchkeeper_check_runs_total"}
    assert got == runs
    alerts = dict(db.execute_sql("SELECT state, count(*) FROM alerts GROUP BY state").fetchall())
    shown = labelled(families["watchkeeper_alerts"], "watchkeeper_alerts", "state")
    assert shown == {"open": alerts.get("open", 0), "acknowledged": 0, "snoozed": 0, "resolved": 0}
    assert shown["open"] >= 1
    started, finished = db.execute_sql("SELECT started_at, finished_at FROM check_runs WHERE check_name ="
                                       " 'stale_applications' ORDER BY id DESC LIMIT 1").fetchone()
    from engine.timeutil import from_db

    durations = labelled(families["watchkeeper_check_duration_seconds"], "watchkeeper_check_duration_seconds",
                         "check")
    assert durations["stale_applications"] == pytest.approx((from_db(finished) - from_db(started)).total_seconds())
    health = labelled(families["watchkeeper_health"], "watchkeeper_health", "state")
    assert health[engine.snapshot().state.value] == 1 and sum(health.values()) == 1
    assert set(health) == {"starting", "ok", "attention", "degraded", "paused"}
    beat = families["watchkeeper_heartbeat_timestamp_seconds"][0].value
    assert beat == pytest.approx(engine.snapshot().last_beat.timestamp())
    assert families["watchkeeper_archive_sessions"][0].value == 0
    info = families["watchkeeper_info"][0]
    assert info.name == "watchkeeper_info" and info.value == 1
    assert info.labels["version"] == engine.snapshot().version and info.labels["machine"]
    # both channels are disabled in this config: they are listed with nothing pending
    assert labelled(families["watchkeeper_outbox_pending"], "watchkeeper_outbox_pending", "channel") == {
        "toast": 0, "telegram": 0}
    assert labelled(families["watchkeeper_outbox_held"], "watchkeeper_outbox_held", "channel") == {
        "toast": 0, "telegram": 0}


@pytest.fixture
def toast_engine(wk_home):
    """An engine whose toast channel is on (its worker cannot deliver here: rows stay pending)."""
    from engine.engine import Engine
    from engine.units import UNITS

    config = engine_config(toast={"enabled": True})
    eng = Engine(wk_home, config, UNITS)
    eng.start()
    yield eng
    eng.stop("test")


def test_outbox_pending_counts_the_rows_waiting_per_channel(toast_engine, tokens):
    from fastapi.testclient import TestClient

    from engine.api.http import create_app

    from .conftest import BASE, PORT

    app = create_app(toast_engine, tokens, port=PORT)
    with TestClient(app, base_url=BASE) as client:
        client.headers["Authorization"] = f"Bearer {tokens.current().full}"
        client.post("/applications", json={"company": "Acme", "role": "Dev", "applied_at": "2020-01-02T00:00:00Z"})
        client.post("/checks/stale_applications/run")
        db = toast_engine.db
        waiting = db.execute_sql("SELECT count(*) FROM outbox WHERE channel = 'toast'"
                                 " AND state IN ('pending', 'sending')").fetchone()[0]
        pending = labelled(scrape(client)["watchkeeper_outbox_pending"], "watchkeeper_outbox_pending", "channel")
        assert waiting >= 1 and pending["toast"] == waiting
        # routing holds them for the person's return: held, no longer pending
        # (only pending rows: a worker owns a sending one until it records the attempt)
        held_now = db.execute_sql("UPDATE outbox SET state = 'held', hold = 'return' WHERE channel = 'toast'"
                                  " AND state = 'pending'").rowcount
        held = labelled(scrape(client)["watchkeeper_outbox_held"], "watchkeeper_outbox_held", "channel")
        assert held_now >= 1 and held == {"toast": held_now, "telegram": 0}


def test_metrics_need_a_token(anon):
    r = anon.get("/metrics")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert anon.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_scrape_token_reads_metrics_and_nothing_else(app, anon, wk_home):
    from .test_http import _api_routes, _concrete

    headers = {"Authorization": f"Bearer {ensure_token(wk_home, scrape=True)}"}
    assert scrape(anon, headers)["watchkeeper_info"][0].value == 1
    for method, path in _api_routes(app):
        if path in ("/metrics", "/health", "/docs", "/openapi.json"):
            continue
        r = anon.request(method, _concrete(path), headers=headers, json={})
        assert r.status_code == 403, (method, path, r.status_code)
        assert r.json() == {"detail": "the scrape token allows GET /metrics only"}
    assert anon.get("/nope", headers=headers).status_code == 403
    assert anon.post("/metrics", headers=headers).status_code == 403


def test_the_read_only_token_reads_metrics_too(anon, wk_home):
    headers = {"Authorization": f"Bearer {ensure_token(wk_home, read_only=True)}"}
    assert "watchkeeper_health" in scrape(anon, headers)


def test_each_app_has_its_own_registry(engine, tokens):
    from prometheus_client import REGISTRY

    from engine.api.http import create_app

    from .conftest import PORT

    before = list(REGISTRY._collector_to_names)
    create_app(engine, tokens, port=PORT)
    create_app(engine, tokens, port=PORT)
    assert list(REGISTRY._collector_to_names) == before
