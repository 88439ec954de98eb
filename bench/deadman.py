#!/usr/bin/env python3
"""The dead-man switch's cost on a real instance, and that the heartbeat keeps its beat whatever the
monitor does.

Four runs of a real `watchkeeper run --headless` (a new data folder, [api] on, [toast] and [archive]
off, the checks at 24 h so none runs in the window), each for --seconds after start-up settles, with
``[heartbeat] interval_seconds = 1`` so a late beat shows:

1. no dead-man switch (the baseline);
2. ``[deadman] url`` on a local ping server (tests/fakes/ping_server.py) that answers 200, interval 10 s
   (the config's minimum);
3. the same URL on a port nothing listens on (connection refused);
4. the same URL on a server that accepts and never answers (each ping waits out its 10 s timeout and
   two retries).

Per run: CPU of the instance in % of one core (psutil user + system), its RSS at the end, the pings the
server received, the dead-man line of `status --json`, and the heartbeat's gaps: the instance writes
``daemon_state.last_beat_at`` each beat; this script reads it every 0.1 s and prints the largest step
between consecutive values (1 s when every beat is on time) and the beats seen. The per-ping cost is run
2's CPU minus run 1's, divided by the pings.

    .venv/bin/python bench/deadman.py [--seconds 60]

Exit 1 when a heartbeat gap exceeds twice the interval (what the engine itself calls a gap).
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dashboard import Running, cpu_seconds, free_port, instance_on, settle  # noqa: E402
from engine.timeutil import from_db  # noqa: E402
from tests.fakes.ping_server import PingServer  # noqa: E402

BEAT_SECONDS = 1
DEADMAN_INTERVAL = "10s"
CHECKS = ("stale_applications", "session_crash", "goal_staleness", "disk_space", "endpoint", "listening_ports",
          "autostart_entries")  # the default checks, each put at 24 h


class HangingServer:
    """Accepts connections on 127.0.0.1 and never answers (holds them open until closed)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                self.accepted.append(conn)
        except OSError:
            pass  # closed

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@dataclass
class Result:
    label: str
    cpu_percent: float
    rss_mb: float
    beats: int
    max_gap: float
    pings: int | None
    deadman: str


class BeatWatcher:
    """Reads daemon_state.last_beat_at every 0.1 s in its own thread; the distinct values seen."""

    def __init__(self, db: Path):
        self.db = db
        self.values: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
        try:
            while not self._stop.wait(0.1):
                try:
                    row = conn.execute("SELECT last_beat_at FROM daemon_state ORDER BY id DESC LIMIT 1").fetchone()
                except sqlite3.OperationalError:
                    continue
                if row and row[0] and (not self.values or row[0] != self.values[-1]):
                    self.values.append(row[0])
        finally:
            conn.close()

    def stop(self) -> tuple[int, float]:
        """(beats seen, largest step in seconds between consecutive beats)."""
        self._stop.set()
        self._thread.join(5)
        times = [from_db(v) for v in self.values]
        steps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        return len(times), max(steps, default=0.0)


def deadman_line(running: Running) -> str:
    done = subprocess.run([sys.executable, "-m", "engine", "status", "--json"], env=running.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return f"status --json exited {done.returncode}"
    deadman = (data.get("snapshot") or data).get("deadman")
    if not deadman:
        return "off"
    last = deadman.get("last")
    if not last:
        return "no ping recorded yet"
    return f"last {last['kind']} ping {'sent' if last['ok'] else 'FAILED'}" + ("" if last["ok"] else
                                                                            f": {last['detail']}")


@contextmanager
def monitor(kind: str) -> Iterator[tuple[str, Any]]:
    """(the ping URL, an object with ``pings`` or None) for: up | refused | hanging | off."""
    if kind == "up":
        with PingServer() as server:
            yield server.url + "/ping/bench-uuid", server
    elif kind == "refused":
        yield f"http://127.0.0.1:{free_port()}/ping/bench-uuid", None  # the port was closed again
    elif kind == "hanging":
        hanging = HangingServer()
        try:
            yield hanging.url + "/ping/bench-uuid", hanging
        finally:
            hanging.close()
    else:
        yield "", None


def run(label: str, kind: str, seconds: float) -> Result:
    import psutil

    with monitor(kind) as (url, server):
        extra = f"[heartbeat]\ninterval_seconds = {BEAT_SECONDS}\n\n"
        if url:
            extra += f'[deadman]\nurl = "{url}"\ninterval = "{DEADMAN_INTERVAL}"\nstyle = "healthchecks"\n'
        with instance_on(None, list(CHECKS), extra) as running:
            proc = psutil.Process(running.process.pid)
            settle(proc)
            watcher = BeatWatcher(running.home / "data" / "watchkeeper.db")
            before_pings = len(server.pings) if server is not None and hasattr(server, "pings") else 0
            cpu0, wall0 = cpu_seconds(proc), time.monotonic()
            time.sleep(seconds)
            cpu = (cpu_seconds(proc) - cpu0) / (time.monotonic() - wall0) * 100
            beats, max_gap = watcher.stop()
            rss = proc.memory_info().rss / 2**20
            pings = None
            if server is not None and hasattr(server, "pings"):
                pings = len(server.pings) - before_pings
            elif server is not None:
                pings = len(server.accepted)  # connections accepted (never answered)
            line = deadman_line(running)
    return Result(label, cpu, rss, beats, max_gap, pings, line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="each run's measured window")
    args = parser.parse_args()
    cases = (("no dead-man switch", "off"), (f"dead-man every {DEADMAN_INTERVAL}, monitor answers", "up"),
             ("dead-man, connection refused", "refused"), ("dead-man, monitor accepts, never answers", "hanging"))
    print(f"a real instance per run, heartbeat every {BEAT_SECONDS} s, {args.seconds:g} s measured after start-up "
          f"(CPU resolution: one 10 ms tick is {1 / args.seconds:.3f} % here)")
    print(f"{'run':44} {'CPU %':>7} {'RSS MB':>7} {'beats':>6} {'max gap s':>9} {'pings':>6}  dead-man in status")
    results = []
    for label, kind in cases:
        r = run(label, kind, args.seconds)
        results.append(r)
        pings = "-" if r.pings is None else str(r.pings)
        print(f"{r.label:44} {r.cpu_percent:7.3f} {r.rss_mb:7.1f} {r.beats:6d} {r.max_gap:9.2f} {pings:>6}  "
              f"{r.deadman}",
              flush=True)
    base, on = results[0], results[1]
    if on.pings:
        per_ping = (on.cpu_percent - base.cpu_percent) / 100 * args.seconds / on.pings * 1000
        print(f"\nadded by the switch: {on.cpu_percent - base.cpu_percent:+.3f} % of a core, "
              f"about {per_ping:.1f} ms of CPU per ping ({on.pings} pings); RSS {on.rss_mb - base.rss_mb:+.1f} MB")
    if base.beats:
        print(f"the baseline's CPU per heartbeat (the beat and everything else the idle instance does): "
              f"{base.cpu_percent / 100 * args.seconds / base.beats * 1000:.2f} ms")
    worst = max(r.max_gap for r in results)
    ok = worst <= 2 * BEAT_SECONDS
    print(f"largest heartbeat step in any run: {worst:.2f} s (interval {BEAT_SECONDS} s; a gap is > "
          f"{2 * BEAT_SECONDS} s): {'ok' if ok else 'MISSED'}, ratio {worst / (2 * BEAT_SECONDS):.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
