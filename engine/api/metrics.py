"""``GET /metrics``: the figures of engine.actions.metrics in Prometheus text format.

A custom collector in a registry of its own per app (never prometheus_client's global one, so
nothing leaks between apps or tests); each scrape calls the action afresh."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from engine.actions.metrics import Metrics
from engine.health import Health

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # understood by every Prometheus 2.x and 3.x


def families(data: Metrics) -> Iterator[Metric]:
    """The metric families of one scrape."""
    info = InfoMetricFamily("watchkeeper", "The running Watchkeeper: its version and machine",
                            value={"version": data.version, "machine": data.machine})
    yield info
    health = GaugeMetricFamily("watchkeeper_health", "1 for the current health state, 0 for the others",
                               labels=["state"])
    for state in Health:
        health.add_metric([state.value], 1.0 if state == data.health else 0.0)
    yield health
    alerts = GaugeMetricFamily("watchkeeper_alerts", "Stored alerts per state", labels=["state"])
    for alert_state, n in data.alerts.items():
        alerts.add_metric([alert_state], n)
    yield alerts
    pending = GaugeMetricFamily("watchkeeper_outbox_pending", "Notifications waiting to be delivered, per channel",
                                labels=["channel"])
    for channel, n in data.outbox_pending.items():
        pending.add_metric([channel], n)
    yield pending
    held = GaugeMetricFamily("watchkeeper_outbox_held", "Notifications presence-aware routing keeps back (for the"
                             " person's return, or to escalate), per channel", labels=["channel"])
    for channel, n in data.outbox_held.items():
        held.add_metric([channel], n)
    yield held
    runs = CounterMetricFamily("watchkeeper_check_runs", "Check runs kept in the database (retention prunes old"
                               " ones: a drop reads as a counter reset), per check and outcome",
                               labels=["check", "outcome"])
    for total in data.check_runs:
        runs.add_metric([total.check, total.outcome], total.runs)
    yield runs
    duration = GaugeMetricFamily("watchkeeper_check_duration_seconds", "How long the latest run of each check took",
                                 labels=["check"], unit="seconds")
    for check, seconds in data.check_durations.items():
        duration.add_metric([check], seconds)
    yield duration
    if data.heartbeat_timestamp is not None:
        yield GaugeMetricFamily("watchkeeper_heartbeat_timestamp_seconds", "Unix time of the last heartbeat",
                                value=data.heartbeat_timestamp, unit="seconds")
    yield GaugeMetricFamily("watchkeeper_archive_sessions", "Conversation sessions in the archive",
                            value=data.archive_sessions)


class _Collector(Collector):
    def __init__(self, gather: Callable[[], Metrics]) -> None:
        self.gather = gather

    def collect(self) -> Iterator[Metric]:
        yield from families(self.gather())


def exposition(gather: Callable[[], Metrics]) -> Callable[[], bytes]:
    """A function rendering the text of a scrape, each call gathering the figures with ``gather``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(gather))
    return lambda: generate_latest(registry)
