"""The alerts list of the dashboard: alerts filtered by state and check, newest first, paged, each
with where its notifications went (per channel: state, attempts, last error)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions.errors import Invalid, NotFound
from engine.actions.paging import Page, check_window
from engine.actions.target import Target, connected
from engine.alerts import store
from engine.alerts.store import Alert, AlertState
from engine.delivery.history import AlertSpan, ChannelDelivery, alert_deliveries

STATES = tuple(s.value for s in AlertState)


@dataclass(frozen=True)
class AlertRow:
    """An alert and its deliveries per channel."""

    alert: Alert
    deliveries: tuple[ChannelDelivery, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.alert.to_dict(), "deliveries": [d.to_dict() for d in self.deliveries]}


def alert_rows(target: Target, *, state: str | None = None, check: str | None = None,
               limit: int = 50, offset: int = 0) -> Page:
    """A page of AlertRows, newest first. Invalid for an unknown state or a bad window."""
    if state and state not in STATES:
        raise Invalid(f"state must be one of {', '.join(STATES)}, not {state!r}")
    check_window(limit, offset)
    with connected(target) as db:
        alerts = store.list_alerts(db, check=check, state=state, limit=limit, offset=offset)
        total = store.count_alerts(db, check=check, state=state)
        sent = alert_deliveries(db, [AlertSpan(a.id, a.check_name, a.opened_at, a.resolved_at or a.last_notified_at)
                                      for a in alerts])
    return Page(tuple(AlertRow(a, sent.get(a.id, ())) for a in alerts), total, limit, offset)


def alert_row(target: Target, alert_id: int) -> AlertRow:
    """One alert with its deliveries per channel; NotFound when there is none with that id."""
    with connected(target) as db:
        try:
            alert = store.get_alert(db, alert_id)
        except store.AlertError as exc:
            raise NotFound(str(exc)) from exc
        sent = alert_deliveries(db, [AlertSpan(alert.id, alert.check_name, alert.opened_at,
                                               alert.resolved_at or alert.last_notified_at)])
    return AlertRow(alert, sent.get(alert.id, ()))
