"""The figures a metrics scrape shows (``GET /metrics``): gathered per request from the running
instance's snapshot and its database, as plain typed data. The API renders them in Prometheus text
format; nothing here keeps state between scrapes."""

from __future__ import annotations

from dataclasses import dataclass

from engine import machine
from engine.actions.target import Instance, connected
from engine.health import Health


@dataclass(frozen=True)
class CheckRunTotal:
    check: str
    outcome: str  # ok | firing | error (engine.checks.service.CheckOutcome)
    runs: int


@dataclass(frozen=True)
class Metrics:
    """One scrape's worth of figures (times as Unix seconds)."""

    version: str
    machine: str
    health: Health
    alerts: dict[str, int]  # stored alerts per state, every state listed
    outbox_pending: dict[str, int]  # rows waiting per channel
    outbox_held: dict[str, int]  # rows presence-aware routing keeps back per channel
    check_runs: tuple[CheckRunTotal, ...]  # the runs kept in check_runs (retention prunes old ones)
    check_durations: dict[str, float]  # seconds of each check's latest run
    heartbeat_timestamp: float | None
    archive_sessions: int


def machine_name(instance: Instance) -> str:
    """The name this machine goes by: ``[general] machine_name`` when the config has one, else the host name."""
    return machine.machine_name(str(getattr(instance.config.general, "machine_name", "") or ""))


def metrics(instance: Instance) -> Metrics:
    """The running instance's figures now."""
    from engine.actions.delivery import channels
    from engine.alerts.store import counts_by_state
    from engine.archive.runs import count_sessions
    from engine.checks.history import last_durations, run_totals

    snap = instance.snapshot()
    shown = channels(instance)
    with connected(instance) as db:
        alerts = {state.value: n for state, n in counts_by_state(db).items()}
        totals = tuple(CheckRunTotal(check, outcome, n) for check, outcome, n in run_totals(db))
        durations = last_durations(db)
        sessions = count_sessions(db)
    return Metrics(
        version=snap.version, machine=machine_name(instance), health=snap.state, alerts=alerts,
        outbox_pending={c.name: c.pending for c in shown}, outbox_held={c.name: c.held for c in shown},
        check_runs=totals, check_durations=durations,
        heartbeat_timestamp=snap.last_beat.timestamp() if snap.last_beat else None, archive_sessions=sessions)
