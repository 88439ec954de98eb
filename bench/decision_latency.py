#!/usr/bin/env python3
"""Cooldown decision latency with a large heartbeat_log.

Fills a fresh database with N heartbeat_log rows over 200 checks (SENT/SUPPRESSED mix), then
times the decision path: the indexed "latest SENT of this check" lookup, the clock-back anchor
(a runtime_state read when the wall clock alone would suppress) plus the pure decide().

    .venv/bin/python bench/decision_latency.py [--rows 1000000] [--samples 5000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from engine.alerts.dispatcher import LAST_SENT_SQL, clock_back_since, last_sent
from engine.alerts.policy import PolicyInput, decide
from engine.timeutil import to_db
from engine.units import open_db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=5000)
    args = ap.parse_args()
    rng = random.Random(7)
    now = datetime(2026, 11, 26, tzinfo=timezone.utc)
    checks = [f"check_{i:03d}" for i in range(200)]
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        batch = []
        with db.atomic():
            for i in range(args.rows):
                ts = now - timedelta(seconds=rng.randrange(90 * 86400))
                batch.append((rng.choice(checks), to_db(ts), "SENT" if i % 10 == 0 else "SUPPRESSED", "bench", 1))
                if len(batch) == 10_000:
                    db.cursor().executemany(
                        "INSERT INTO heartbeat_log (check_name, ts, decision, reason, subjects) VALUES (?,?,?,?,?)",
                        batch)
                    batch.clear()
        fill = time.perf_counter() - t0
        samples = []
        for _ in range(args.samples):
            check = rng.choice(checks)
            t = time.perf_counter()
            sent = last_sent(db, check)
            anchor = clock_back_since(db, check, sent, now, timedelta(hours=24), keep=True)
            decide(PolicyInput(check, timedelta(hours=24), sent, now, "warning", clock_back_since=anchor))
            samples.append((time.perf_counter() - t) * 1000)
        plan = db.execute_sql("EXPLAIN QUERY PLAN " + LAST_SENT_SQL, ("check_001",)).fetchall()
        db.close()
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"heartbeat_log rows: {args.rows:,} over {len(checks)} checks (filled in {fill:.1f} s)")
    print(f"query plan: {plan[0][-1]}")
    print(f"decision latency over {args.samples} samples: p50 {p50:.4f} ms, p99 {p99:.4f} ms; "
          f"target p99 < 1 ms -> ratio {p99 / 1.0:.3f}")


if __name__ == "__main__":
    main()
