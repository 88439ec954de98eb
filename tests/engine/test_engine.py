"""The Engine's snapshots as its subscribers (the dashboard's event streams, the tray) receive them."""

from __future__ import annotations

from engine.engine import Engine
from engine.units import UNITS
from tests.engine.api.conftest import engine_config
from tests.helpers import wait_until

ALL_CHECKS = ("stale_applications", "session_crash", "goal_staleness", "disk_space", "endpoint",
              "listening_ports", "autostart_entries")


def test_a_heartbeat_reaches_subscribers_once_when_its_job_has_ended(wk_home):
    eng = Engine(wk_home, engine_config(checks={name: {"enabled": False} for name in ALL_CHECKS}), UNITS)
    eng.start()
    try:
        seen = []
        eng.subscribe(seen.append)
        seen.clear()  # subscribe hands over the current snapshot at once
        before = eng.scheduler.states["heartbeat"].last_finished
        assert eng.scheduler.run_now("heartbeat")

        def beat_ended(snap) -> bool:
            job = next(j for j in snap.jobs if j.name == "heartbeat")
            return not job.running and job.last_finished is not None and job.last_finished != before

        wait_until(lambda: seen and beat_ended(seen[-1]), timeout=30, message="the snapshot after the beat")
        assert len(seen) == 1
    finally:
        eng.stop("test")
