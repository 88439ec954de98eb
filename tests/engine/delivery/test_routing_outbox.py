"""Presence-aware routing on a real SQLite outbox: the enqueue placement, the held rows' release and
skip, the counts, the recorded route; presence and clock injected, no threads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.alerts import store
from engine.alerts.dispatcher import Dispatcher
from engine.delivery import outbox
from engine.delivery.service import HoldReleaser, outbox_hook
from engine.findings import Finding
from engine.presence import Presence, PresenceState
from engine.units import CHANNELS
from tests.helpers import parse_config

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
PRESENT = PresenceState(Presence.PRESENT, "last input 2 s ago")
AWAY = PresenceState(Presence.AWAY, "idle for 14 min")


class World:
    """A clock and a presence the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0
        self.presence = PRESENT

    def clock(self) -> datetime:
        return self.now

    def where(self) -> PresenceState:
        return self.presence


def setup(db, routing="presence"):
    config = parse_config({"delivery": {"routing": routing, "escalate_after": "5m"},
                           "toast": {"enabled": True},
                           "telegram": {"token": "123456:" + "A" * 35, "chat_id": "42"}}, env={})
    world = World()
    dispatcher = Dispatcher(db, on_queue=[outbox_hook(config, world.clock, CHANNELS, world.where)])
    releaser = HoldReleaser(db, config, world.where, now=world.clock, on_release=lambda: None)
    return world, dispatcher, releaser


def rows(db) -> dict[str, tuple[str, str | None, str | None]]:
    """The latest row per channel: (state, hold, route)."""
    out = {}
    for channel, state, hold, route in db.execute_sql("SELECT channel, state, hold, route FROM outbox ORDER BY id"):
        out[channel] = (state, hold, route)
    return out


def fire(dispatcher, world, severity="warning", check="disk", findings=None):
    return dispatcher.dispatch(check, findings if findings is not None else [Finding("c:", severity, "disk full")],
                               DAY, world.now)


def test_present_queues_the_toast_and_holds_telegram_for_escalation(db):
    world, dispatcher, _ = setup(db)
    fire(dispatcher, world)
    got = rows(db)
    assert got["toast"][0] == "pending"
    assert got["telegram"][:2] == ("held", "escalate")
    assert "telegram if not acknowledged after 5 min away" in (got["telegram"][2] or "")
    assert outbox.due(db, "telegram", world.now) == []


def test_held_rows_are_counted_apart_and_not_pending(db):
    world, dispatcher, _ = setup(db)
    fire(dispatcher, world)
    telegram = {c["name"]: c for c in outbox.channel_status(db, ["telegram", "toast"], world.now)}["telegram"]
    assert (telegram["pending"], telegram["held"]) == (0, 1)


def test_escalates_after_escalate_after_when_away_and_still_unacknowledged(db):
    world, dispatcher, releaser = setup(db)
    fire(dispatcher, world)
    world.presence = AWAY
    world.now += timedelta(minutes=4)
    assert releaser.release_once() == (0, 0)
    world.now += timedelta(minutes=1)
    assert releaser.release_once() == (1, 0)
    state, hold, route = rows(db)["telegram"]
    assert (state, hold, route) == ("pending", None, "escalated: away and not acknowledged after 5 min")
    assert [r.channel for r in outbox.due(db, "telegram", world.now)] == ["telegram"]


def test_acknowledging_drops_the_held_escalation(db):
    world, dispatcher, releaser = setup(db)
    result = fire(dispatcher, world)
    alert_id = db.execute_sql("SELECT id FROM alerts").fetchone()[0]
    store.acknowledge(db, alert_id, world.now)
    assert releaser.release_once() == (0, 1)
    state, _, route = rows(db)["telegram"]
    assert state == "skipped" and route and route.startswith("skipped:")
    assert result.notification_id is not None
    assert not outbox.has_held(db)


def test_away_sends_telegram_and_shows_the_toast_on_return_if_still_open(db):
    world, dispatcher, releaser = setup(db)
    world.presence = AWAY
    fire(dispatcher, world)
    got = rows(db)
    assert got["telegram"][0] == "pending"
    assert got["toast"][:2] == ("held", "return")
    assert got["toast"][2] == "away (idle for 14 min): telegram; toast on return"
    world.now += timedelta(hours=1)
    assert releaser.release_once() == (0, 0)  # still away
    world.presence = PRESENT
    assert releaser.release_once() == (1, 0)
    assert rows(db)["toast"][:2] == ("pending", None)


def test_a_toast_held_for_the_return_is_skipped_when_resolved_meanwhile(db):
    world, dispatcher, releaser = setup(db)
    world.presence = AWAY
    fire(dispatcher, world)
    world.now += timedelta(minutes=10)
    fire(dispatcher, world, findings=[])  # the check is fine again: the alert resolves
    world.presence = PRESENT
    released, skipped = releaser.release_once()
    assert (released, skipped) == (0, 1)
    toast_rows = db.execute_sql("SELECT state, route FROM outbox WHERE channel = 'toast' ORDER BY id").fetchall()
    assert toast_rows[0] == ("skipped", "skipped: resolved or acknowledged while you were away")


def test_recovery_of_a_toast_only_alert_skips_telegram(db):
    world, dispatcher, releaser = setup(db)
    fire(dispatcher, world)
    world.now += timedelta(minutes=1)
    fire(dispatcher, world, findings=[])
    recovery = db.execute_sql("SELECT o.channel, o.state, o.route FROM outbox o JOIN notifications n"
                              " ON n.id = o.notification_id WHERE n.kind = 'recovery' ORDER BY o.channel").fetchall()
    assert [(c, s) for c, s, _ in recovery] == [("telegram", "skipped"), ("toast", "pending")]
    assert recovery[0][2].endswith("the alert was only shown here")


def test_recovery_of_an_escalated_alert_reaches_the_phone(db):
    world, dispatcher, releaser = setup(db)
    fire(dispatcher, world)
    world.presence = AWAY
    world.now += timedelta(minutes=6)
    releaser.release_once()
    world.presence = PRESENT
    fire(dispatcher, world, findings=[])
    recovery = dict(db.execute_sql("SELECT o.channel, o.state FROM outbox o JOIN notifications n"
                                   " ON n.id = o.notification_id WHERE n.kind = 'recovery'").fetchall())
    assert recovery == {"telegram": "pending", "toast": "pending"}


def test_critical_goes_to_both_at_once(db):
    world, dispatcher, _ = setup(db)
    fire(dispatcher, world, severity="critical")
    got = rows(db)
    assert (got["toast"][0], got["telegram"][0]) == ("pending", "pending")
    assert got["telegram"][2] == "critical: every channel"


def test_routing_both_queues_everything_and_records_it(db):
    world, dispatcher, releaser = setup(db, routing="both")
    fire(dispatcher, world)
    assert rows(db) == {"toast": ("pending", None, "both"), "telegram": ("pending", None, "both")}
    assert releaser.release_once() == (0, 0)


def test_the_route_is_shown_with_the_notification_routes(db, tmp_path):
    world, dispatcher, _ = setup(db)
    result = fire(dispatcher, world)
    routes = {channel: (state, route) for channel, state, route in outbox.routes(db, result.notification_id)}
    assert routes["telegram"][0] == "held" and "if not acknowledged" in routes["telegram"][1]
    assert routes["toast"][0] == "pending" and routes["toast"][1].endswith("toast now")


def test_the_route_is_in_the_actions_notification_routes_and_the_outbox_list(db):
    from engine.actions.delivery import notification_routes
    from engine.actions.delivery import outbox as outbox_page
    from engine.actions.target import Offline
    from engine.units import UNITS

    world, dispatcher, _ = setup(db)
    world.presence = AWAY
    result = fire(dispatcher, world)
    config = parse_config({"delivery": {"routing": "presence"}, "toast": {"enabled": True},
                           "telegram": {"token": "123456:" + "A" * 35, "chat_id": "42"}}, env={})
    target = Offline(db, config, UNITS, now=world.clock)
    routes = {r.channel: r.to_dict() for r in notification_routes(target, [result.notification_id])[
        result.notification_id]}
    assert routes["toast"] == {"channel": "toast", "state": "held",
                               "route": "away (idle for 14 min): telegram; toast on return"}
    assert routes["telegram"]["route"] == "away (idle for 14 min): telegram now"
    page = outbox_page(target, channel="toast")
    assert [item["route"] for item in page.to_dict()["items"]] == [
        "away (idle for 14 min): telegram; toast on return"]
