"""listening_ports: baseline on the first run, then new listeners; real sockets via psutil."""

from __future__ import annotations

import json
import os
import socket
from collections import namedtuple
from datetime import UTC, datetime

import psutil
import pytest

from engine.checks.base import CheckContext, CheckError
from engine.checks.listening_ports import (
    BASELINE_KEY,
    Listener,
    ListeningPortsCheck,
    _from_conns,
    baseline_of,
    new_listeners,
    reset_baseline,
    system_listeners,
)

Addr = namedtuple("Addr", "ip port")
Conn = namedtuple("Conn", "fd family type laddr raddr status pid")


class _State(dict):
    def get_state(self, key: str) -> str | None:
        return self.get(key)

    def set_state(self, key: str, value: str | None) -> None:
        if value is None:
            self.pop(key, None)
        else:
            self[key] = value


def _ctx(state: _State, allowed: list[int] | None = None) -> CheckContext:
    return CheckContext(db=None, now=datetime.now(UTC), params={"allowed_ports": allowed or []},
                        name="listening_ports", get_state=state.get_state, set_state=state.set_state)


def test_new_listeners_skips_baseline_and_allowed_ports():
    current = [Listener("tcp", 22), Listener("tcp", 8080), Listener("udp", 5353), Listener("tcp", 9000)]
    found = new_listeners(current, baseline=["tcp/22"], allowed=[9000])
    assert [item.key for item in found] == ["tcp/8080", "udp/5353"]


def test_new_listeners_reports_a_port_once_preferring_a_known_process():
    current = [Listener("tcp", 8080, "0.0.0.0"), Listener("tcp", 8080, "::", 42, "web")]
    (item,) = new_listeners(current, baseline=[], allowed=[])
    assert item.pid == 42


def test_same_port_on_another_protocol_is_new():
    assert [i.key for i in new_listeners([Listener("udp", 22)], ["tcp/22"], [])] == ["udp/22"]


def test_first_run_takes_the_baseline_and_reports_nothing():
    state = _State()
    listeners = [Listener("tcp", 22), Listener("tcp", 22), Listener("udp", 53)]
    check = ListeningPortsCheck(lister=lambda: listeners)
    assert check.evaluate(_ctx(state)) == []
    assert json.loads(state[BASELINE_KEY]) == ["tcp/22", "udp/53"]


def test_later_run_reports_new_listener_with_process_in_title():
    state = _State({BASELINE_KEY: json.dumps(["tcp/22"])})
    current = [Listener("tcp", 22), Listener("tcp", 8080, "127.0.0.1", 4321, "node")]
    (finding,) = ListeningPortsCheck(lister=lambda: current).evaluate(_ctx(state))
    assert finding.subject == "tcp/8080"
    assert finding.title == "node (pid 4321) is listening on tcp/8080"
    assert "127.0.0.1:8080" in finding.detail
    assert json.loads(state[BASELINE_KEY]) == ["tcp/22"], "the baseline does not grow by itself"


def test_unknown_process_is_still_reported():
    state = _State({BASELINE_KEY: "[]"})
    (finding,) = ListeningPortsCheck(lister=lambda: [Listener("udp", 500)]).evaluate(_ctx(state))
    assert finding.title == "A process has bound udp/500"


def test_reset_baseline_makes_the_next_run_take_a_new_one():
    state = _State({BASELINE_KEY: "[]"})
    check = ListeningPortsCheck(lister=lambda: [Listener("tcp", 8080)])
    assert len(check.evaluate(_ctx(state))) == 1
    reset_baseline(state.set_state)
    assert check.evaluate(_ctx(state)) == []
    assert check.evaluate(_ctx(state)) == []


def test_unreadable_baseline_is_retaken():
    state = _State({BASELINE_KEY: "not json"})
    assert ListeningPortsCheck(lister=lambda: [Listener("tcp", 1)]).evaluate(_ctx(state)) == []
    assert json.loads(state[BASELINE_KEY]) == ["tcp/1"]


def test_conversion_keeps_tcp_listeners_and_non_ephemeral_bound_udp():
    tcp, udp = socket.SOCK_STREAM, socket.SOCK_DGRAM
    conns = [
        Conn(3, socket.AF_INET, tcp, Addr("0.0.0.0", 22), (), psutil.CONN_LISTEN, 10),
        Conn(4, socket.AF_INET, tcp, Addr("10.0.0.2", 50000), Addr("1.2.3.4", 443), "ESTABLISHED", 11),
        Conn(5, socket.AF_INET, udp, Addr("0.0.0.0", 5353), (), psutil.CONN_NONE, 12),
        Conn(6, socket.AF_INET, udp, Addr("0.0.0.0", 50001), (), psutil.CONN_NONE, 13),
        Conn(7, socket.AF_INET, udp, Addr("10.0.0.2", 600), Addr("8.8.8.8", 53), psutil.CONN_NONE, 14),
    ]
    found = _from_conns(conns, ephemeral=(32768, 60999))
    assert [(i.key, i.pid) for i in found] == [("tcp/22", 10), ("udp/5353", 12)]


def test_access_denied_everywhere_is_a_clear_check_error(monkeypatch):
    def denied(*args, **kwargs):
        raise psutil.AccessDenied()

    class Proc:
        pid = 1
        net_connections = staticmethod(denied)

    monkeypatch.setattr(psutil, "net_connections", denied)
    monkeypatch.setattr(psutil, "process_iter", lambda: iter([Proc()]))
    with pytest.raises(CheckError, match="access denied"):
        system_listeners()


def test_access_denied_falls_back_to_per_process_sockets(monkeypatch):
    def denied(*args, **kwargs):
        raise psutil.AccessDenied()

    class Proc:
        pid = os.getpid()

        @staticmethod
        def net_connections(kind: str):
            return [Conn(3, socket.AF_INET, socket.SOCK_STREAM, Addr("127.0.0.1", 7777), (),
                         psutil.CONN_LISTEN, None)]

    monkeypatch.setattr(psutil, "net_connections", denied)
    monkeypatch.setattr(psutil, "process_iter", lambda: iter([Proc()]))
    (item,) = system_listeners()
    assert (item.key, item.pid) == ("tcp/7777", os.getpid())


def test_real_socket_opened_after_the_baseline_is_reported_until_closed():
    state = _State()
    check = ListeningPortsCheck(own_pid=0)  # the socket is this test process's own
    assert check.evaluate(_ctx(state)) == []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        findings = {f.subject: f for f in check.evaluate(_ctx(state))}
        assert f"tcp/{port}" in findings
        assert f"(pid {os.getpid()})" in findings[f"tcp/{port}"].title
        assert f"tcp/{port}" not in {f.subject for f in check.evaluate(_ctx(state, allowed=[port]))}
    assert f"tcp/{port}" not in {f.subject for f in check.evaluate(_ctx(state))}


def test_baseline_of_is_sorted_and_unique():
    listeners = [Listener("udp", 53), Listener("tcp", 80), Listener("tcp", 80)]
    assert baseline_of(listeners) == ["tcp/80", "udp/53"]


def test_watchkeepers_own_listeners_are_never_reported():
    own = Listener("tcp", 40000, "127.0.0.1", pid=4242)
    state = _State()
    check = ListeningPortsCheck(lister=lambda: [], own_pid=4242)
    assert check.evaluate(_ctx(state)) == []  # baseline
    check = ListeningPortsCheck(lister=lambda: [own], own_pid=4242)
    assert check.evaluate(_ctx(state)) == []
