"""Alert actions: list and get alerts, acknowledge, snooze, and the alerts behind a notification."""

from __future__ import annotations

from datetime import timedelta

from engine.actions.errors import Conflict, NotFound
from engine.actions.instance import duration
from engine.actions.paging import Page, check_window
from engine.actions.target import Target, connected
from engine.alerts import store
from engine.alerts.store import Alert
from engine.delivery.service import notification_alerts as _notification_alerts


def list_alerts(target: Target, *, check: str | None = None, state: str | None = None,
                live_only: bool = False, limit: int = 100, offset: int = 0) -> Page:
    """Alerts newest first, filtered by check, state and liveness (not resolved)."""
    check_window(limit, offset)
    with connected(target) as db:
        items = store.list_alerts(db, check=check, state=state, live_only=live_only, limit=limit, offset=offset)
        total = store.count_alerts(db, check=check, state=state, live_only=live_only)
    return Page(tuple(items), total, limit, offset)


def get_alert(target: Target, alert_id: int) -> Alert:
    """One alert; NotFound when there is none with that id."""
    try:
        with connected(target) as db:
            return store.get_alert(db, alert_id)
    except store.AlertError as exc:
        raise NotFound(str(exc)) from exc


def acknowledge(target: Target, alert_id: int) -> Alert:
    """Acknowledge a live alert: not re-notified until it resolves. NotFound for an unknown id,
    Conflict for a resolved alert."""
    get_alert(target, alert_id)
    try:
        with connected(target) as db:
            alert = store.acknowledge(db, alert_id, target.now())
    except store.AlertError as exc:
        raise Conflict(str(exc)) from exc
    target.publish()
    return alert


def snooze(target: Target, alert_id: int, length: timedelta | str) -> Alert:
    """Snooze a live alert for ``length`` (a duration such as ``2h``; Invalid otherwise). NotFound
    for an unknown id, Conflict for a resolved alert."""
    delta = duration(length)
    get_alert(target, alert_id)
    now = target.now()
    try:
        with connected(target) as db:
            alert = store.snooze(db, alert_id, now + delta, now)
    except store.AlertError as exc:
        raise Conflict(str(exc)) from exc
    target.publish()
    return alert


def notification_alerts(target: Target, notification_id: int) -> list[int]:
    """The ids of the alerts one notification was about (what its buttons act on)."""
    with connected(target) as db:
        return _notification_alerts(db, notification_id)
