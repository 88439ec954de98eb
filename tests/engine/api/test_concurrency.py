"""20 clients x 200 writes through the API of a running instance while its scheduler runs checks
every 2 s and a 21st client keeps running all checks: every write stored, none "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest

from engine.timeutil import to_db, utcnow

from .instance import Client, running_instance

pytestmark = pytest.mark.slow

CLIENTS = 20
WRITES = 200
CONFIG = """
[toast]
enabled = false

[archive]
enabled = false

[heartbeat]
interval_seconds = 1

[checks.stale_applications]
schedule = "every 2s"

[checks.session_crash]
schedule = "every 2s"

[checks.goal_staleness]
schedule = "every 2s"

[checks.disk_space]
enabled = false

[checks.endpoint]
enabled = false

[checks.listening_ports]
enabled = false
"""


def test_concurrent_writes_are_all_stored_while_the_scheduler_runs(wk_home):
    old = to_db(utcnow() - timedelta(days=8))
    failures: list[str] = []
    writers_done = threading.Event()
    check_runs = [0]

    with running_instance(wk_home, CONFIG) as (port, token):

        def writer(n: int) -> None:
            client = Client(port, token)
            try:
                for i in range(WRITES):
                    body = {"company": f"c{n}", "role": f"r{i}"}
                    if i % 10 == 0:
                        body["applied_at"] = old  # stale: the check opens alerts while we write
                    status, reply = client.request("POST", "/applications", body)
                    if status != 201:
                        failures.append(f"{n}/{i}: {status} {reply}")
            except Exception as exc:
                failures.append(f"{n}: {type(exc).__name__}: {exc}")
            finally:
                client.close()

        def checker() -> None:
            client = Client(port, token)
            try:
                while not writers_done.is_set() or check_runs[0] == 0:
                    status, reply = client.request("POST", "/checks/run")
                    if status != 200:
                        failures.append(f"check run: {status} {reply}")
                    check_runs[0] += 1
            finally:
                client.close()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(CLIENTS)]
        runner = threading.Thread(target=checker)
        runner.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        writers_done.set()
        runner.join(600)

    assert not failures, failures[:10]
    with sqlite3.connect(wk_home.db_file) as conn:
        stored = conn.execute("SELECT count(*) FROM applications").fetchone()[0]
        stale_alerts = conn.execute("SELECT count(*) FROM alerts WHERE check_name = 'stale_applications'").fetchone()[0]
        runs = conn.execute("SELECT count(*), sum(outcome = 'error') FROM check_runs").fetchone()
    assert stored == CLIENTS * WRITES
    assert check_runs[0] >= 1 and runs[0] >= 1 and not runs[1]
    assert stale_alerts >= 1
    log = "".join(p.read_text(errors="replace") for p in wk_home.log_dir.iterdir() if p.is_file())
    assert "database is locked" not in log
