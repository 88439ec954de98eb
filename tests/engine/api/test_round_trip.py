"""A new user's round trip through a running instance's API: a stale application becomes an
alert that is acknowledged, all over HTTP with the token `watchkeeper api token` prints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.timeutil import to_db, utcnow
from tests.helpers import cli

from .instance import Client, running_instance

pytestmark = pytest.mark.slow


def test_stale_application_to_acknowledged_alert_through_the_api(wk_home):
    config = '[toast]\nenabled = false\n\n[general]\nlog_level = "DEBUG"\n'
    with running_instance(wk_home, config) as (port, token):
        assert cli("api", "token", check=True).stdout.strip() == token
        api = Client(port, token)
        assert Client(port, None).request("GET", "/status")[0] == 401

        status, app = api.request("POST", "/applications", {
            "company": "Initech", "role": "Platform Engineer", "applied_at": to_db(utcnow() - timedelta(days=8))})
        assert status == 201 and app["status"] == "applied"

        status, result = api.request("POST", "/checks/stale_applications/run")
        assert status == 200
        (run,) = result["runs"]
        assert run["outcome"] == "firing" and run["findings"] == 1 and run["decision"] == "SENT", run

        status, alerts = api.request("GET", "/alerts?live=true&check=stale_applications")
        assert status == 200
        (alert,) = [a for a in alerts["items"] if a["subject"] == f"application:{app['id']}"]
        assert alert["state"] == "open" and "Initech" in alert["title"] and alert["notify_count"] == 1

        status, acked = api.request("POST", f"/alerts/{alert['id']}/ack")
        assert status == 200 and acked["state"] == "acknowledged"

        status, snap = api.request("GET", "/status")
        assert status == 200 and alert["id"] not in [a["id"] for a in snap["open_alerts"]]
        assert snap["api_url"] == f"http://127.0.0.1:{port}"
        status, log = api.request("GET", "/log?check=stale_applications")
        assert log["items"][0]["decision"] == "SENT"
        status, why = api.request("GET", "/checks/stale_applications/why")
        assert status == 200 and "Cooldown: 24 hours" in why["text"]

        # a wrong token and a validation error, then make sure no log carries the token
        assert Client(port, token + "x").request("GET", "/status")[0] == 401
        assert api.request("POST", "/pause", {"duration": token})[0] == 422
    logs = "".join(p.read_text(errors="replace") for p in wk_home.log_dir.iterdir() if p.is_file())
    assert logs and token not in logs
