#!/usr/bin/env python3
"""Start-up and idle cost of `watchkeeper run --headless` from an installed checkout.

Prints: time from launch to the first heartbeat row (median of N runs), RSS after an idle
window, and idle CPU over that window (CPU seconds / wall seconds, % of one core).

    .venv/bin/python bench/startup.py [--runs 5] [--idle 60]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_beat_seconds(home: Path) -> tuple[float, subprocess.Popen]:
    env = {**os.environ, "WATCHKEEPER_HOME": str(home)}
    db = home / "data" / "watchkeeper.db"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", "--headless"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    while True:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    if conn.execute("SELECT 1 FROM daemon_state LIMIT 1").fetchone():
                        return time.perf_counter() - t0, proc
            except sqlite3.OperationalError:
                pass
        if proc.poll() is not None:
            raise SystemExit(f"watchkeeper exited with {proc.returncode}")
        time.sleep(0.005)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=60.0, help="idle window in seconds")
    args = ap.parse_args()
    import psutil

    times = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            if i == 0:
                # the first run creates the DB; measure the steady case (existing install) too
                pass
            seconds, proc = first_beat_seconds(home)
            times.append(seconds)
            proc.terminate()
            proc.wait(30)
    with tempfile.TemporaryDirectory() as tmp:
        seconds, proc = first_beat_seconds(Path(tmp))
        p = psutil.Process(proc.pid)
        time.sleep(5)  # let start-up work (catch-up, first checks) settle
        cpu0, wall0 = sum(p.cpu_times()[:2]), time.monotonic()
        time.sleep(args.idle)
        cpu1, wall1 = sum(p.cpu_times()[:2]), time.monotonic()
        rss = p.memory_info().rss / 2**20
        proc.terminate()
        proc.wait(30)
    cpu = 100 * (cpu1 - cpu0) / (wall1 - wall0)
    print(f"first heartbeat: median {statistics.median(times):.3f} s over {args.runs} runs "
          f"(min {min(times):.3f}, max {max(times):.3f}); target < 1.5 s -> ratio {statistics.median(times) / 1.5:.2f}")
    print(f"idle RSS after {args.idle:.0f} s: {rss:.1f} MB; target < 45 MB -> ratio {rss / 45:.2f}")
    print(f"idle CPU over {args.idle:.0f} s: {cpu:.3f} % of one core; target < 0.1 % -> ratio {cpu / 0.1:.2f}")


if __name__ == "__main__":
    main()
