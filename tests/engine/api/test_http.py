"""The HTTP binding: authentication on every route, read-only token, Host check, error shapes."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from engine.api.http import PUBLIC_PATHS
from engine.api.tokens import ensure_token

from .conftest import PORT


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _api_routes(app) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in route.methods:
                out.append((method, route.path))
    return out


def test_the_api_has_at_least_22_endpoints_and_every_one_declares_its_response(app):
    routes = _api_routes(app)
    assert len(routes) >= 22
    for route in app.routes:
        if isinstance(route, APIRoute):
            assert route.response_model is not None, route.path


def test_every_protected_route_refuses_no_token_and_a_wrong_token(app, anon):
    protected = [(m, p) for m, p in _api_routes(app) if not (p in PUBLIC_PATHS and m == "GET")]
    assert len(protected) >= 21
    for method, path in protected:
        url = _concrete(path)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"},
                        {"Authorization": "Bearer"}, {"Authorization": "Bearer ünïcödé".encode()}):
            r = anon.request(method, url, headers=headers, json={})
            assert r.status_code == 401, (method, path, headers, r.status_code, r.text)
            assert r.json() == {"detail": r.json()["detail"]}


def test_unknown_paths_need_the_token_too(anon, client):
    assert anon.get("/nope").status_code == 401
    assert client.get("/nope").status_code == 404


def test_read_only_token_reads_but_cannot_write(app, anon, wk_home):
    read_only = ensure_token(wk_home, read_only=True)
    headers = {"Authorization": f"Bearer {read_only}"}
    assert anon.get("/status", headers=headers).status_code == 200
    assert anon.get("/applications", headers=headers).status_code == 200
    writes = [(m, p) for m, p in _api_routes(app) if m != "GET"]
    for method, path in writes:
        r = anon.request(method, _concrete(path), headers=headers, json={})
        assert r.status_code == 403, (method, path, r.status_code)
    r = anon.post("/applications", headers=headers, json={"company": "A", "role": "B"})
    assert r.status_code == 403 and "read-only" in r.json()["detail"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:18765", f"127.0.0.1.evil.example:{PORT}",
                                  "127.0.0.1:1", "localhost", "[::1]:1", ""])
def test_a_foreign_host_header_is_refused_even_with_the_token(client, host):
    r = client.get("/status", headers={"Host": host})
    assert r.status_code == 403 and r.json() == {"detail": "host not allowed"}
    assert client.get("/health", headers={"Host": host}).status_code == 403


def test_local_host_names_are_accepted(client):
    assert client.get("/status", headers={"Host": f"localhost:{PORT}"}).status_code == 200
    assert client.get("/status", headers={"Host": f"127.0.0.1:{PORT}"}).status_code == 200


def test_health_is_public_and_reveals_nothing(anon, engine, tokens):
    r = anon.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "up", "state": engine.snapshot().state.value}
    text = r.text + str(r.headers)
    assert tokens.current().full not in text and str(engine.paths.data_dir) not in text
    assert "server" not in {k.lower() for k in r.headers}
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}


def test_no_cors(client):
    r = client.options("/status", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    r = client.get("/status", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in {k.lower() for k in r.headers}


def test_docs_and_openapi_are_served(anon):
    spec = anon.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert anon.get("/docs").status_code == 200
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "200" in op["responses"] or "201" in op["responses"] or "202" in op["responses"], (method, path)
            if path != "/health":
                assert {"401", "403", "422"} <= set(op["responses"]), (method, path)


def test_404_and_409_and_422_shapes(client):
    r = client.get("/applications/999")
    assert r.status_code == 404 and r.json() == {"detail": "no application with id 999"}
    r = client.post("/checks/nope/run")
    assert r.status_code == 404 and "no check named 'nope'" in r.json()["detail"]
    r = client.post("/applications", json={"company": "", "role": "x", "extra": 1})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "company"), ("body", "extra")}
    r = client.post("/applications", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.get("/alerts", params={"limit": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]
    assert client.get("/alerts", params={"limit": 1001}).status_code == 422
    assert client.get("/alerts", params={"offset": -1}).status_code == 422
    assert client.get("/applications/0").status_code == 422
    assert client.get(f"/applications/{2**64}").status_code == 422
    r = client.post("/pause", json={"duration": "soon"})
    assert r.status_code == 422 and "not a duration" in r.json()["detail"][0]["msg"]
    assert client.post("/pause", json={"duration": "99999999999999w"}).status_code == 422
    assert client.post("/applications", json={"company": "a", "role": "b",
                                              "applied_at": "0001-01-01T00:00:00+01:00"}).status_code == 422
    lone_surrogate = b'{"company": "a\\ud800", "role": "b"}'
    r = client.post("/applications", content=lone_surrogate, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post("/goals/domains", json={"name": "Health"})
    assert r.status_code == 201
    assert client.post("/goals/domains", json={"name": "Health"}).status_code == 409
    assert client.post("/archive/run").status_code == 409  # archive disabled in the test config


def test_crud_over_http(client):
    r = client.post("/applications", json={"company": "Acme", "role": "SRE"})
    assert r.status_code == 201
    app_id = r.json()["id"]
    assert client.patch(f"/applications/{app_id}", json={"status": "offer"}).json()["status"] == "offer"
    assert client.get("/applications", params={"status": "offer"}).json()["total"] == 1
    assert client.delete(f"/applications/{app_id}").json() == {"id": app_id, "deleted": True}
    assert client.delete(f"/applications/{app_id}").status_code == 404

    s = client.post("/work-sessions", json={"name": "docs"}).json()
    assert client.post(f"/work-sessions/{s['id']}/activity").status_code == 200
    assert client.post(f"/work-sessions/{s['id']}/activity", json={"at": "2030-01-01T00:00:00Z"}).json()[
        "last_activity_at"] == "2030-01-01T00:00:00.000000Z"
    assert client.post(f"/work-sessions/{s['id']}/end").json()["status"] == "ended"
    assert client.post(f"/work-sessions/{s['id']}/activity").status_code == 409

    g = client.post("/goals", json={"title": "Run"}).json()
    h = client.post("/goals", json={"title": "Sleep"}).json()
    assert client.post(f"/goals/{g['id']}/dependencies", json={"depends_on_goal_id": h["id"]}).status_code == 201
    assert client.post(f"/goals/{h['id']}/dependencies", json={"depends_on_goal_id": g["id"]}).status_code == 409
    sub = client.post(f"/goals/{g['id']}/sub-goals", json={"title": "5k"}).json()
    assert client.patch(f"/goals/sub-goals/{sub['id']}", json={"status": "done"}).json()["status"] == "done"
    assert client.post(f"/goals/{g['id']}/progress", json={"value": 3, "note": "ok"}).status_code == 201
    detail = client.get(f"/goals/{g['id']}").json()
    assert detail["depends_on"] == [h["id"]] and len(detail["recent_progress"]) == 1
    assert client.get(f"/goals/{g['id']}/progress").json()["total"] == 1
    assert client.delete(f"/goals/{g['id']}/dependencies/{h['id']}").status_code == 200


def test_status_checks_log_config_and_channels(client, engine):
    assert client.get("/status").json()["pid"] == engine.snapshot().pid
    names = [c["name"] for c in client.get("/checks").json()]
    assert "stale_applications" in names
    assert client.get("/checks/stale_applications").json()["params"] == {"days": 7}
    assert client.post("/checks/run").json()["runs"]
    assert client.get("/checks/stale_applications/why").json()["check"] == "stale_applications"
    assert client.get("/log").json()["total"] >= 0
    assert client.get("/config").json()["api"]["port"] == engine.config.api.port
    assert [(c["name"], c["state"]) for c in client.get("/channels").json()] == [("toast", "disabled"),
                                                                                  ("telegram", "disabled")]
    assert client.post("/channels/telegram/test").status_code == 404
    assert client.get("/outbox").json()["total"] == 0
    assert client.get("/events").status_code == 200
    assert client.get("/archive/runs").json()["total"] == 0
    assert client.get("/archive/sessions").json() == []
    assert client.get("/archive/search", params={"q": "hello world*"}).json() == []
    assert client.get("/archive/sessions/abc").status_code == 404
    assert client.post("/pause", json={"duration": "1h"}).json()["paused_until"]
    paused = client.get("/status").json()  # both channels off: DEGRADED ("no channel can deliver") beats PAUSED
    assert paused["paused_until"] and paused["reasons"] == ["no channel can deliver alerts"]
    assert set(paused["alerts"]) == {"attention", "acknowledged", "snoozed"}
    assert client.post("/resume").json() == {"paused_until": None}


def test_status_shows_the_dead_man_switch_with_its_url_redacted(wk_home, tokens):
    from fastapi.testclient import TestClient

    from engine.api.http import create_app
    from engine.engine import Engine
    from engine.units import UNITS
    from tests.engine.api.conftest import BASE, engine_config
    from tests.fakes.ping_server import PingServer
    from tests.helpers import wait_until

    with PingServer() as server:
        eng = Engine(wk_home, engine_config(deadman={"url": f"{server.url}/secret-token-123"}), UNITS)
        eng.start()
        try:
            wait_until(lambda: eng.snapshot().deadman and eng.snapshot().deadman["last"], message="the start ping")
            with TestClient(create_app(eng, tokens, port=PORT), base_url=BASE) as c:
                body = c.get("/status", headers={"Authorization": f"Bearer {tokens.current().full}"}).json()
        finally:
            eng.stop("test")
    assert body["deadman"]["url"] == f"{server.url}/…" and body["deadman"]["last"]["ok"]
    assert "secret-token-123" not in str(body)


def test_usage_answers_with_the_cli_json_and_refuses_a_bad_date(client):
    body = client.get("/usage", params={"by": "model", "agent": "claude"}).json()
    assert body["totals"] == {"input_tokens": 0, "output_tokens": 0, "cache_creation_tokens": 0,
                              "cache_read_tokens": 0, "cost_usd": None}
    assert body["rows"] == [] and body["group_by"] == "model" and body["prices_as_of"]
    bad = client.get("/usage", params={"since": "2026-02-30"})
    assert bad.status_code == 422 and "'2026-02-30' is not a date" in bad.text
    assert client.get("/usage", params={"by": "year"}).status_code == 422
