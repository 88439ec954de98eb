"""The live event stream: a fresh fragment after a check run, and a stream that never holds up Quit."""

from __future__ import annotations

import http.client
import threading

from engine.api.server import ApiServer
from engine.engine import Engine
from engine.units import UNITS
from tests.conftest import free_port
from tests.engine.api.conftest import engine_config
from tests.helpers import cli, wait_until

from .live import EventStream, dashboard

STOP_BOUND = 2.0  # seconds; uvicorn alone waits timeout_graceful_shutdown (3 s) for an open stream


def test_the_stream_sends_the_status_fragment_again_after_a_check_run(wk_home):
    with dashboard(wk_home) as board:
        stream = EventStream(board)
        try:
            name, first = stream.next_event()
            assert name == "status" and "Needing attention" in first
            cli("check", "run", "disk_space", check=True)
            name, after = wait_until(lambda: _attention_event(stream), timeout=30,
                                     message="a status event after the run")
            assert name == "status"
            assert '<dd data-counter="attention">1</dd>' in after
        finally:
            stream.close()


def test_a_heartbeat_sends_the_status_but_the_checks_event_only_after_a_check_run(wk_home):
    with dashboard(wk_home) as board:
        stream = EventStream(board)
        try:
            assert [stream.next_event()[0] for _ in range(2)] == ["status", "checks"]  # at once: the first snapshot
            cli("pause", "5m", check=True)  # a new snapshot that changes no check run
            name, _ = stream.next_event()
            assert name == "status"
            cli("check", "run", "disk_space", check=True)
            names = wait_until(lambda: _names_until_checks(stream), timeout=30, message="a checks event after the run")
            assert names[-1] == "checks" and set(names[:-1]) <= {"status"}
        finally:
            stream.close()


def _names_until_checks(stream: EventStream) -> list[str]:
    names: list[str] = []
    while not names or names[-1] != "checks":
        event = stream.next_event()
        assert event is not None, "the stream ended"
        names.append(event[0])
        assert len(names) < 20, names
    return names


def _attention_event(stream: EventStream):
    event = stream.next_event()
    assert event is not None, "the stream ended"
    return event if '<dd data-counter="attention">1</dd>' in event[1] else None


def test_closing_the_server_ends_an_open_stream_at_once(wk_home):
    port = free_port()
    engine = Engine(wk_home, engine_config(api={"enabled": True, "port": port}), UNITS)
    engine.start()
    server = next(s for s in engine.services if isinstance(s, ApiServer))
    try:
        ui = _login_in_process(server, port)
        stream = EventStream(ui)
        assert stream.next_event()[0] == "status"
        ended = threading.Event()

        def read_to_the_end() -> None:
            while stream.next_event() is not None:
                pass
            ended.set()

        threading.Thread(target=read_to_the_end, daemon=True).start()
        closed = threading.Event()
        threading.Thread(target=lambda: (server.close(), closed.set()), daemon=True).start()
        wait_until(closed.is_set, timeout=STOP_BOUND, message="the API server to close with a stream open")
        wait_until(ended.is_set, timeout=STOP_BOUND, message="the stream to end")
        stream.close()
    finally:
        engine.stop("test")


def _login_in_process(server: ApiServer, port: int):
    from .live import Dashboard, post_token

    wait_until(lambda: server.url, message="the API to listen")
    answer = post_token(port, server.logins.mint())
    assert answer.status == 204
    return Dashboard(port, answer.getheader("set-cookie").split(";", 1)[0])


def test_a_stream_without_a_session_is_refused(wk_home):
    with dashboard(wk_home) as board:
        conn = http.client.HTTPConnection("127.0.0.1", board.port, timeout=30)
        conn.request("GET", "/ui/events", headers={"Host": f"127.0.0.1:{board.port}"})
        answer = conn.getresponse()
        assert answer.status == 401 and b"Locked" in answer.read()
        conn.close()
