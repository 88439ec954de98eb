#!/usr/bin/env python3
"""Local HTTP API throughput: requests per second and latency percentiles with N concurrent
keep-alive clients against a real `watchkeeper run --headless`, for

- GET /status                              (a snapshot: several reads)
- POST /work-sessions/{id}/activity        (a read-then-write transaction)

Also prints the instance's RSS before the first API request (FastAPI not yet loaded) and after.

    .venv/bin/python bench/api.py [--clients 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.headers)
        r = self.conn.getresponse()
        return r.status, r.read()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load(port: int, token: str, method: str, path: str, body: bytes | None, clients: int,
         seconds: float) -> tuple[float, list[float], int]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0]
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def worker(i: int) -> None:
        client = Client(port, token)
        client.call("GET", "/health")  # connect before the clock starts
        start.wait()
        mine = latencies[i]
        while not stop.is_set():
            t0 = time.perf_counter()
            status, _ = client.call(method, path, body)
            mine.append(time.perf_counter() - t0)
            if status >= 300:
                errors[0] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    flat = [x for lst in latencies for x in lst]
    return len(flat) / wall, flat, errors[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        port = free_port()
        (home / "config").mkdir(parents=True)
        (home / "config" / "config.toml").write_text(
            f"[api]\nport = {port}\n\n[toast]\nenabled = false\n\n[archive]\nenabled = false\n")
        env = {**os.environ, "WATCHKEEPER_HOME": str(home)}
        proc = subprocess.Popen([sys.executable, "-m", "engine", "run", "--headless"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            token_file = home / "data" / "api-token"
            deadline = time.monotonic() + 30
            while not token_file.exists() or not token_file.read_text().strip():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the instance did not start")
                time.sleep(0.05)
            token = token_file.read_text().strip()
            time.sleep(2)  # start-up work settles
            rss_before = psutil.Process(proc.pid).memory_info().rss / 2**20
            t0 = time.perf_counter()
            client = Client(port, token)
            status, raw = client.call("POST", "/work-sessions", json.dumps({"name": "bench"}).encode())
            first = time.perf_counter() - t0
            assert status == 201, raw
            session = json.loads(raw)["id"]
            print(f"instance RSS before the first request: {rss_before:.1f} MB; first request (loads FastAPI): "
                  f"{first * 1000:.0f} ms")
            cases = [("GET /status", "GET", "/status", None),
                     ("POST /work-sessions/{id}/activity", "POST", f"/work-sessions/{session}/activity", b"{}")]
            for label, method, path, body in cases:
                load(port, token, method, path, body, args.clients, 1.0)  # warm-up
                rps, lat, errors = load(port, token, method, path, body, args.clients, args.seconds)
                print(f"{label}: {rps:.0f} req/s with {args.clients} clients over {args.seconds:.0f} s; "
                      f"p50 {statistics.median(lat) * 1000:.1f} ms, p95 {percentile(lat, 95) * 1000:.1f} ms, "
                      f"p99 {percentile(lat, 99) * 1000:.1f} ms; {len(lat)} requests, {errors} errors")
            print(f"instance RSS after the benchmark: {psutil.Process(proc.pid).memory_info().rss / 2**20:.1f} MB")
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
