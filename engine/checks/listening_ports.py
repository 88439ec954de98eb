"""listening_ports: a process starts listening on a port not in the baseline.

The first run records the listening TCP ports and bound UDP ports as the baseline (runtime
state "baseline", a JSON list of "proto/port") and finds nothing; later runs report each
listener that is neither in the baseline nor in ``allowed_ports``. Bound UDP sockets in the
system's ephemeral port range are ignored: they are client sockets (DNS, QUIC), not services.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.checks.base import CheckContext, CheckError, CheckKind, Param
from engine.findings import Finding
from engine.vocabulary import Severity

BASELINE_KEY = "baseline"
log = logging.getLogger("watchkeeper")


@dataclass(frozen=True)
class Listener:
    """One listening socket: protocol ("tcp"/"udp"), local address and port, owning process."""

    proto: str
    port: int
    address: str = ""
    pid: int | None = None
    process: str | None = None

    @property
    def key(self) -> str:
        """The stable identity used for the baseline and as the alert subject."""
        return f"{self.proto}/{self.port}"


Lister = Callable[[], list[Listener]]


def _ports(value: Any) -> str | None:
    ok = all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 65535 for v in value)
    return None if ok else "a list of port numbers from 1 to 65535"


def ephemeral_range() -> tuple[int, int]:
    """The OS range for automatically assigned ports (Linux reads it; others use IANA's)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return (49152, 65535)


def _from_conns(conns: Iterable[Any], ephemeral: tuple[int, int], pid: int | None = None) -> list[Listener]:
    import psutil

    found = []
    for c in conns:
        if not c.laddr:
            continue
        if c.type == socket.SOCK_STREAM:
            if c.status != psutil.CONN_LISTEN:
                continue
            proto = "tcp"
        elif c.type == socket.SOCK_DGRAM:
            if c.raddr or ephemeral[0] <= c.laddr.port <= ephemeral[1]:
                continue
            proto = "udp"
        else:
            continue
        found.append(Listener(proto, c.laddr.port, c.laddr.ip, c.pid if c.pid else pid))
    return found


def _name(pid: int | None) -> str | None:
    if not pid:
        return None
    import psutil

    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return None


def system_listeners() -> list[Listener]:
    """Listening TCP and bound UDP sockets of this machine, with process names where visible.

    When the system-wide table is denied (macOS without root), falls back to the sockets of each
    process this user may inspect; CheckError when even that is impossible.
    """
    import psutil

    ephemeral = ephemeral_range()
    try:
        found = _from_conns(psutil.net_connections(kind="inet"), ephemeral)
    except psutil.AccessDenied:
        found = _per_process(ephemeral)
    names: dict[int, str | None] = {}
    out = []
    for item in found:
        if item.pid and item.pid not in names:
            names[item.pid] = _name(item.pid)
        out.append(Listener(item.proto, item.port, item.address, item.pid,
                            names.get(item.pid) if item.pid else None))
    return out


def _per_process(ephemeral: tuple[int, int]) -> list[Listener]:
    import psutil

    found: list[Listener] = []
    readable = 0
    for proc in psutil.process_iter():
        try:
            found += _from_conns(proc.net_connections(kind="inet"), ephemeral, pid=proc.pid)
            readable += 1
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    if not readable:
        raise CheckError("cannot list listening sockets: access denied (the system table and every "
                         "process's sockets); run with more privileges or disable listening_ports")
    return found


def new_listeners(current: Iterable[Listener], baseline: Iterable[str], allowed: Iterable[int]
                  ) -> list[Listener]:
    """Listeners whose "proto/port" is not in ``baseline`` and whose port is not ``allowed``;
    one per "proto/port" (preferring one with a known process), sorted."""
    known = set(baseline)
    allowed_ports = set(allowed)
    chosen: dict[str, Listener] = {}
    for item in current:
        if item.key in known or item.port in allowed_ports:
            continue
        previous = chosen.get(item.key)
        if previous is None or (previous.pid is None and item.pid is not None):
            chosen[item.key] = item
    return sorted(chosen.values(), key=lambda item: (item.proto, item.port))


def baseline_of(listeners: Iterable[Listener]) -> list[str]:
    """The baseline entries ("proto/port", sorted) for ``listeners``."""
    return sorted({item.key for item in listeners})


def reset_baseline(set_state: Callable[[str, str | None], None]) -> None:
    """Forget the baseline; the next run takes a new one (and reports nothing)."""
    set_state(BASELINE_KEY, None)


def _finding(item: Listener, severity: str) -> Finding:
    if item.process and item.pid:
        who = f"{item.process} (pid {item.pid})"
    elif item.pid:
        who = f"Process {item.pid}"
    else:
        who = "A process"
    verb = "is listening on" if item.proto == "tcp" else "has bound"
    address = f"{item.address}:{item.port}" if item.address else str(item.port)
    return Finding(item.key, severity, f"{who} {verb} {item.key}",
                   f"address {address}; not in the baseline nor in allowed_ports")


class ListeningPortsCheck(CheckKind):
    """New listening ports compared with a baseline taken on the first run."""

    kind = "listening_ports"
    description = "A process starts listening on a port not in the baseline."
    schedule = "every 30m"
    cooldown = "24h"
    severity = Severity.WARNING
    baseline_noun = "listeners"
    params = {
        "allowed_ports": Param([], "Ports that never count as new (besides the baseline).", _ports),
    }

    def __init__(self, lister: Lister = system_listeners, own_pid: int | None = None) -> None:
        self._lister = lister
        self._own_pid = os.getpid() if own_pid is None else own_pid

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """Take the baseline on the first run; afterwards one finding per new listener."""
        # Watchkeeper's own sockets (control channel, API) change port across restarts: never news.
        current = [item for item in self._lister() if item.pid != self._own_pid]
        stored = ctx.get_state(BASELINE_KEY)
        baseline = _parse_baseline(stored)
        if baseline is None:
            ctx.set_state(BASELINE_KEY, json.dumps(baseline_of(current)))
            return []
        allowed = ctx.params.get("allowed_ports") or []
        return [_finding(item, self.severity) for item in new_listeners(current, baseline, allowed)]


def _parse_baseline(stored: str | None) -> list[str] | None:
    if not stored:
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        log.warning("listening_ports: stored baseline unreadable; taking a new one")
        return None
    return [str(v) for v in value] if isinstance(value, list) else None
