#!/usr/bin/env python3
"""``GET /metrics`` on a big database: a real instance, the scrape's latency and size.

The database is built by bench/dashboard.py's builder (reused while it fits and is under 6 h old):
--rows check runs and as many heartbeat_log rows over the default checks, --alerts alerts with their
notifications and outbox rows, an archive of 500 sessions. A real `watchkeeper run --headless` starts
on a copy ([api] on a free port, [toast] and [archive] off, the checks at 24 h); then --calls
keep-alive ``GET /metrics`` with the bearer token of ``api-token`` after one untimed: p50 / p95 from
sending the request to the last byte (loopback), the response's bytes and series, and the text
parsed by prometheus_client's parser.

Target p95 < 50 ms: the same budget as the dashboard's pages, and far below any scrape interval
(Prometheus' default timeout is 10 s); a scrape of every machine in a fleet every 15-60 s then costs
each instance well under 0.5 % of a core.

    .venv/bin/python bench/metrics.py [--rows 1000000] [--alerts 10000] [--calls 200] [--db PATH] [--fresh]

Exit 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dashboard import ALERTS, ROWS, instance_on, percentile, prepare, settle, verdict, wait_for  # noqa: E402

P95_MS = 50.0


def scrape(conn: http.client.HTTPConnection, port: int, token: str) -> tuple[int, float, bytes]:
    """(status, ms to the last byte, body) of one GET /metrics on a keep-alive connection."""
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    conn.request("GET", "/metrics", headers=headers)
    answer = conn.getresponse()
    body = answer.read()
    return answer.status, (time.perf_counter() - start) * 1000, body


def main() -> int:
    import psutil
    from prometheus_client.parser import text_string_to_metric_families

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="the filled database (default /tmp/wk-metrics-bench-ROWS.db)")
    parser.add_argument("--rows", type=int, default=ROWS, help="check runs and heartbeat_log rows (each)")
    parser.add_argument("--alerts", type=int, default=ALERTS)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="refill the database even when it fits")
    args = parser.parse_args()
    db_file = args.db or Path(tempfile.gettempdir()) / f"wk-metrics-bench-{args.rows}.db"
    _, checks = prepare(db_file, rows=args.rows, alert_count=args.alerts, fresh=args.fresh)

    with instance_on(db_file, checks) as running:
        token_file = running.home / "data" / "api-token"
        wait_for(lambda: token_file.exists() and bool(token_file.read_text().strip()), 30, "the API token")
        token = token_file.read_text().strip()
        proc = psutil.Process(running.process.pid)
        settle(proc)
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=60)
        status, first, body = scrape(conn, running.port, token)
        if status != 200:
            raise SystemExit(f"GET /metrics answered {status}")
        families = list(text_string_to_metric_families(body.decode("utf-8")))
        series = sum(len(f.samples) for f in families)
        alerts = {s.labels["state"]: s.value for f in families if f.name == "watchkeeper_alerts" for s in f.samples}
        samples, cpu0 = [], sum(proc.cpu_times()[:2])
        for _ in range(args.calls):
            status, ms, body = scrape(conn, running.port, token)
            if status != 200:
                raise SystemExit(f"GET /metrics answered {status} during the run")
            samples.append(ms)
        cpu_ms = (sum(proc.cpu_times()[:2]) - cpu0) * 1000 / args.calls
        conn.close()

    p50, p95 = statistics.median(samples), percentile(samples, 95)
    text, ok = verdict(p95, P95_MS, "ms")
    print(f"\nGET /metrics, a real instance on a copy of {db_file.name} ({sum(alerts.values()):,.0f} alerts: "
          + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(alerts.items())) + f"); {args.calls} keep-alive requests")
    print(f"  first (untimed in the figures): {first:.1f} ms")
    print(f"  p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(samples):.2f} ms  {text} (ratio {p95 / P95_MS:.2f})")
    print(f"  the instance's CPU per scrape: {cpu_ms:.1f} ms")
    print(f"  response: {len(body):,} bytes, {len(families)} metric families, {series} samples "
          "(parsed by prometheus_client.parser)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
