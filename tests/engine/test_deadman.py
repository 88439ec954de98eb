"""The dead-man switch: the pure ping decision, URL redaction, and the service against a real local
HTTP server (start ping, healthy pings, fail with a reason, Uptime Kuma's query, an unreachable URL)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from engine.config import ConfigError
from engine.deadman import DeadmanService, PingResult, decide, log_line, reason_categories, redact_url
from engine.health import Health
from tests.fakes.ping_server import PingServer
from tests.helpers import parse_config, wait_until

TOKEN = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
PRIVATE_REASONS = ["job secret_payroll_check failing", "channel telegram broken",
                   "config.toml invalid: /home/alice/.config/x: bad", "heartbeat stale",
                   "API port 8765 on 127.0.0.1 is busy or not allowed (Address in use); change [api] port",
                   "disk full: /home/alice/archive (archive run 3 stopped)"]


def test_healthchecks_start_ok_and_fail_urls():
    url = f"https://hc-ping.com/{TOKEN}"
    start = decide(Health.OK, [], "healthchecks", url, starting=True)
    assert (start.kind, start.method, start.url) == ("start", "POST", url + "/start")
    ok = decide(Health.ATTENTION, ["2 open alert(s)"], "healthchecks", url)
    assert (ok.kind, ok.url, ok.body) == ("ok", url, b"OK")
    fail = decide(Health.DEGRADED, ["channel telegram broken"], "healthchecks", url)
    assert (fail.kind, fail.url, fail.body) == ("fail", url + "/fail", b"Watchkeeper degraded: channel broken")


def test_fail_reason_names_categories_never_private_data():
    body = decide(Health.DEGRADED, PRIVATE_REASONS, "healthchecks", "https://hc.example/x").body.decode()
    assert body == ("Watchkeeper degraded: job failing, channel broken, config invalid, scheduler stuck, "
                    "API port busy, disk full")
    for private in ("secret_payroll", "alice", "telegram", "8765"):
        assert private not in body
    assert "\n" not in body


def test_uptime_kuma_push_replaces_the_query_of_the_copied_url():
    url = f"https://kuma.example/api/push/{TOKEN}?status=up&msg=OK&ping="
    ok = decide(Health.OK, [], "uptime-kuma", url)
    assert (ok.method, ok.url) == ("GET", f"https://kuma.example/api/push/{TOKEN}?status=up&msg=OK")
    down = decide(Health.DEGRADED, ["heartbeat stale"], "uptime-kuma", url)
    assert down.url == f"https://kuma.example/api/push/{TOKEN}?status=down&msg=Watchkeeper+degraded%3A+scheduler+stuck"


def test_no_ping_without_url_or_before_the_engine_started():
    assert decide(Health.OK, [], "healthchecks", "") is None
    assert decide(Health.STARTING, ["starting"], "healthchecks", "https://hc.example/x") is None


def test_redacted_url_keeps_scheme_and_host_only():
    assert redact_url(f"https://hc-ping.com/{TOKEN}") == "https://hc-ping.com/…"
    assert redact_url(f"http://kuma.lan:3001/api/push/{TOKEN}?status=up") == "http://kuma.lan:3001/…"


def test_reason_categories_fold_repeats():
    assert reason_categories(["channel toast broken", "channel telegram broken"]) == ["channel broken"]
    assert reason_categories(["something new: /home/alice"]) == ["internal problem"]


def test_config_rejects_short_interval_unknown_style_and_non_http_url():
    assert parse_config({"deadman": {}}).deadman.interval == "5m"
    for bad, named in [({"interval": "5s"}, "deadman.interval"), ({"style": "nagios"}, "deadman.style"),
                       ({"url": "ftp://x/y"}, "deadman.url")]:
        with pytest.raises(ConfigError, match=named) as caught:
            parse_config({"deadman": bad})
        assert "ftp://x/y" not in str(caught.value)  # the URL is a secret even when it is wrong


class SetHealth:
    """A health the test sets (what the engine's snapshot would say)."""

    def __init__(self) -> None:
        self.state, self.reasons = Health.OK, []

    def __call__(self) -> tuple[Health, list[str]]:
        return self.state, self.reasons


@contextmanager
def hanging_monitor() -> Iterator[tuple[socket.socket, str]]:
    """A listening socket that accepts connections into its backlog and never answers, and its ping URL."""
    with socket.socket() as hang:
        hang.bind(("127.0.0.1", 0))
        hang.listen(8)
        yield hang, f"http://127.0.0.1:{hang.getsockname()[1]}/{TOKEN}"


def _service(url: str, style: str, health: SetHealth, **kw) -> DeadmanService:
    # A long interval: the test ticks by hand (the ticker thread does the same every interval).
    return DeadmanService(url, style, 3600.0, health, **kw)


def test_healthchecks_pings_reach_a_real_server_start_then_ok_then_fail():
    health = SetHealth()
    with PingServer() as server:
        service = _service(f"{server.url}/{TOKEN}", "healthchecks", health)
        service.start()
        try:
            wait_until(lambda: len(server.pings) == 1, message="the start ping")
            service.tick()
            wait_until(lambda: len(server.pings) == 2, message="the healthy ping")
            health.state, health.reasons = Health.DEGRADED, ["channel telegram broken"]
            service.tick()
            wait_until(lambda: len(server.pings) == 3, message="the fail ping")
        finally:
            service.close()
    assert [(p.method, p.path, p.body) for p in server.pings] == [
        ("POST", f"/{TOKEN}/start", "Watchkeeper started"),
        ("POST", f"/{TOKEN}", "OK"),
        ("POST", f"/{TOKEN}/fail", "Watchkeeper degraded: channel broken"),
    ]
    status = service.deadman_status()
    assert status["last"]["ok"] and status["last"]["kind"] == "fail" and status["last"]["detail"] == "HTTP 200"
    assert TOKEN not in str(status)


def test_uptime_kuma_pings_reach_a_real_server_with_status_and_msg():
    health = SetHealth()
    with PingServer() as server:
        service = _service(f"{server.url}/api/push/{TOKEN}?status=up&msg=OK&ping=", "uptime-kuma", health)
        service.start()
        try:
            wait_until(lambda: len(server.pings) == 1, message="the start ping")
            health.state, health.reasons = Health.DEGRADED, ["disk full: /home/alice"]
            service.tick()
            wait_until(lambda: len(server.pings) == 2, message="the down ping")
        finally:
            service.close()
    start, down = server.pings
    assert (start.method, start.path, start.query) == ("GET", f"/api/push/{TOKEN}",
                                                       {"status": ["up"], "msg": ["Watchkeeper started"]})
    assert down.query == {"status": ["down"], "msg": ["Watchkeeper degraded: disk full"]}


def test_a_server_error_is_retried_then_recorded_as_failed():
    with PingServer(status=503) as server:
        service = _service(f"{server.url}/{TOKEN}", "healthchecks", SetHealth(), backoff=(0.0, 0.0))
        service.start()
        try:
            last = wait_until(lambda: service.last, message="the failed start ping")
        finally:
            service.close()
    assert len(server.pings) == 3  # one try and two retries
    assert (last.ok, last.detail) == (False, "HTTP 503")


def test_the_log_says_when_pings_start_failing_change_and_recover_not_every_repeat():
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

    def r(ok: bool, detail: str) -> PingResult:
        return PingResult("ok" if ok else "fail", ok, detail, at)

    history = [r(True, "HTTP 200"), r(False, "Connection refused"), r(False, "Connection refused"),
               r(False, "HTTP 503"), r(False, "HTTP 503"), r(True, "HTTP 200"), r(True, "HTTP 200")]
    lines = [log_line(prev, result, "http://h/…") for prev, result in zip([None, *history], history, strict=False)]
    assert lines == [
        None,
        (logging.WARNING, "dead-man ping (fail) to http://h/… failed: Connection refused "
                          "(the same failure again is not logged)"),
        None,
        (logging.WARNING, "dead-man ping (fail) to http://h/… failed: HTTP 503 (the same failure again is not logged)"),
        None,
        (logging.INFO, "dead-man ping (ok) to http://h/… reaches the monitor again"),
        None,
    ]
    assert log_line(None, r(False, "timed out"), "u") is not None  # the very first ping failing is said


def test_a_monitor_down_for_many_pings_is_one_warning_and_one_recovery_line(caplog):
    caplog.set_level(logging.INFO, logger="engine.deadman")
    with PingServer(status=503) as server:
        service = _service(f"{server.url}/{TOKEN}", "healthchecks", SetHealth(), backoff=(0.0, 0.0))
        service.start()
        try:
            wait_until(lambda: service.last, message="the failed start ping")
            for n in range(2, 5):
                service.tick()
                wait_until(lambda n=n: len(server.pings) == 3 * n and service.last.kind == "ok",
                           message=f"ping {n} and its retries")
            server.status = 200
            service.tick()
            wait_until(lambda: service.last.ok, message="the ping that gets through")
        finally:
            service.close()
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "engine.deadman"]
    assert [level for level, _ in said] == [logging.INFO, logging.WARNING, logging.INFO], said  # on, failing, back
    assert "HTTP 503" in said[1][1] and "reaches the monitor again" in said[2][1]
    assert TOKEN not in str(said)


def test_a_hanging_url_never_blocks_the_caller_and_shows_as_failed():
    with hanging_monitor() as (hang, url):
        service = _service(url, "healthchecks", SetHealth(), timeout=0.3, backoff=(0.0, 0.0))
        service.start()
        try:
            ticked = threading.Event()
            caller = threading.Thread(target=lambda: (service.tick(), ticked.set()))
            caller.start()  # the heartbeat's side: tick() only hands the ping over
            assert ticked.wait(5), "tick() blocked on a hanging ping"
            last = wait_until(lambda: service.last, timeout=20, message="the failed ping")
        finally:
            service.close()
    assert not last.ok and "no answer within 0.3 s" in last.detail
    assert TOKEN not in last.detail


def test_a_newer_ping_replaces_one_still_waiting():
    service = _service("http://127.0.0.1:9/x", "healthchecks", SetHealth())
    service.submit(decide(Health.OK, [], "healthchecks", "http://127.0.0.1:9/x"))
    service.submit(decide(Health.DEGRADED, ["heartbeat stale"], "healthchecks", "http://127.0.0.1:9/x"))
    taken = service._take()
    assert taken is not None and taken.kind == "fail" and service._take() is None


def test_a_failed_attempt_shows_even_when_a_newer_ping_replaces_its_retries():
    """A hanging monitor with an interval shorter than one ping's retries: every ping is replaced by
    the next before its last retry, and the status still shows the failure (not "no ping yet")."""
    with hanging_monitor() as (hang, url):
        service = _service(url, "healthchecks", SetHealth(), timeout=0.3, backoff=(5.0, 5.0))
        service.start()
        try:
            hang.settimeout(10)
            first, _ = hang.accept()  # the start ping's first attempt is under way
            service.tick()  # a newer ping arrives while it hangs, before its retries
            last = wait_until(lambda: service.last, timeout=10, message="the replaced ping's failure")
        finally:
            service.close()
        first.close()
    assert not last.ok and last.kind == "start" and "no answer within 0.3 s" in last.detail
    assert TOKEN not in last.detail
