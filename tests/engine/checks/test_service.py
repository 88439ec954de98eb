"""Running checks: runs recorded, errors and timeouts recorded, never raised into the scheduler."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from engine.alerts.dispatcher import Dispatcher
from engine.checks.base import CheckDefinition, CheckKind, Param
from engine.checks.service import CheckService
from engine.findings import Finding
from tests.engine.checks.query_plans import check_runs_plans

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
release = threading.Event()


class Boom(CheckKind):
    kind = "boom"

    def evaluate(self, ctx):
        raise RuntimeError("the data source is gone")


class Hangs(CheckKind):
    kind = "hangs"
    params = {"timeout_seconds": Param(0.1, "t")}

    def evaluate(self, ctx):
        release.wait(30)
        return []


class Fires(CheckKind):
    kind = "fires"

    def evaluate(self, ctx):
        return [Finding("x", "warning", "X is wrong")]


def service(db, *kinds) -> CheckService:
    defs = [CheckDefinition(k.kind, k, True, "every 1h", "1h", "warning",
                            {n: p.default for n, p in k.params.items()}) for k in kinds]
    return CheckService(db, defs, Dispatcher(db), lambda: NOW, timezone.utc)


def runs(db) -> list[tuple]:
    return db.execute_sql("SELECT check_name, outcome, findings, error FROM check_runs ORDER BY id").fetchall()


def test_raising_check_is_recorded_as_error_and_event(db):
    result = service(db, Boom).run("boom")
    assert result.outcome == "error" and "the data source is gone" in result.error
    assert runs(db) == [("boom", "error", 0, "RuntimeError: the data source is gone")]
    assert db.execute_sql("SELECT kind, subject FROM discovered_events").fetchall() == [("check_error", "boom")]


def test_hanging_check_times_out_as_error(db):
    try:
        result = service(db, Hangs).run("hangs")
    finally:
        release.set()
    assert result.outcome == "error" and result.error.startswith("timed out after")


def test_firing_check_records_findings_and_dispatches(db):
    result = service(db, Fires).run("fires", "manual")
    assert result.outcome == "firing" and result.dispatch.decision.action == "SENT"
    assert runs(db) == [("fires", "firing", 1, None)]
    events = db.execute_sql("SELECT source, kind, subject, severity, detail FROM discovered_events").fetchall()
    assert events == [("fires", "new_finding", "x", "warning", '{"title": "X is wrong", "alert_id": 1}')]
    service(db, Fires).run("fires")  # the same finding again is not news
    assert db.execute_sql("SELECT count(*) FROM discovered_events").fetchone()[0] == 1


def test_error_does_not_resolve_open_alerts(db):
    svc = service(db, Fires)
    svc.run("fires")
    svc.definitions["fires"] = CheckDefinition("fires", Boom, True, "every 1h", "1h", "warning", {})
    svc.run("fires")
    assert db.execute_sql("SELECT state FROM alerts").fetchall() == [("open",)]


def _sleeper_service(db, pid_file):
    import sys

    from engine.checks.command import CommandCheck

    code = (f"import os, pathlib, time; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); "
            "time.sleep(600)")
    params = {"command": [sys.executable, "-c", code], "timeout_seconds": 900.0, "cwd": ""}
    definition = CheckDefinition("sleeper", CommandCheck, True, "every 1h", "1h", "warning", params)
    return CheckService(db, [definition], Dispatcher(db), lambda: NOW, timezone.utc)


def test_close_abandons_a_running_command_check_and_kills_its_program(db, tmp_path):
    import psutil
    import pytest

    from engine.checks.service import CheckAbandoned
    from tests.helpers import wait_until

    pid_file = tmp_path / "child.pid"
    svc = _sleeper_service(db, pid_file)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            svc.run("sleeper")
        except BaseException as exc:
            raised.append(exc)

    caller = threading.Thread(target=run)
    caller.start()
    child = psutil.Process(int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=20)))
    assert svc.close(grace=0) == [child.pid]
    caller.join(10)
    assert not caller.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], CheckAbandoned)
    child.wait(10)  # raises TimeoutExpired if the program still lives
    assert runs(db) == []  # nothing written after the service closed
    with pytest.raises(CheckAbandoned, match="shutting down"):
        svc.run("sleeper")



def test_last_runs_seeks_each_check_in_an_index_instead_of_scanning_every_run(db):
    plans = check_runs_plans(db, service(db, Fires, Boom).last_runs)
    assert plans and all("SCAN" not in plan for plan in plans), plans


def test_last_runs_is_the_latest_recorded_run_of_each_configured_check_even_with_the_clock_set_back(db):
    db.execute_sql("INSERT INTO check_runs (check_name, started_at, finished_at, outcome) VALUES"
                   " ('fires', '2030-01-01T00:00:00.000000Z', '2030-01-01T00:00:00.000000Z', 'ok'),"
                   " ('fires', '2026-11-20T12:00:00.000000Z', '2026-11-20T12:00:01.000000Z', 'firing'),"
                   " ('gone', '2026-11-20T12:00:00.000000Z', '2026-11-20T12:00:01.000000Z', 'ok')")
    runs = service(db, Fires, Boom).last_runs()
    assert runs == {"fires": {"finished_at": "2026-11-20T12:00:01.000000Z", "outcome": "firing", "findings": 0,
                              "error": None}}
