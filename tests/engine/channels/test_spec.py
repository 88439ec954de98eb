"""The channel contract: a channel joins through its ChannelSpec, and delivery needs nothing else."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import pytest

from engine import compose
from engine.alerts.dispatcher import Dispatcher
from engine.channels import telegram, toast
from engine.channels.base import BuildContext, ChannelSpec, Delivery, OutgoingMessage
from engine.config import Config, ConfigError, opt, port_number, redacted
from engine.delivery.service import DeliveryService, channel_secrets, enabled_channels, outbox_hook
from engine.findings import Finding
from engine.timeutil import utcnow
from engine.units import CHANNELS, UNITS
from tests.delivery_helpers import TOKEN
from tests.helpers import parse_config

DAY = timedelta(days=1)


class PagerChannel:
    """A channel that keeps what it was given (the transport of a channel that does not exist)."""

    name = "pager"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.closed = False

    def notify(self, msg: OutgoingMessage) -> Delivery:
        self.sent.append(msg)
        return Delivery(channel_message_id=f"p{len(self.sent)}")

    def close(self) -> None:
        self.closed = True


def pager_spec(channel: PagerChannel, **options: object) -> ChannelSpec:
    def build(config: Config, context: BuildContext) -> PagerChannel:
        return channel

    return ChannelSpec(name="pager", title="Pager", enabled=lambda config: True, build=build,
                       secrets=lambda config: ("pager-secret-value",), **options)  # type: ignore[arg-type]


@dataclass
class PagerSettings:
    """The [pager] section, declared next to the channel as a real one would be."""

    port: int = opt(4321, "Port of the pager gateway.", port_number)
    key: str = opt("", "Gateway key (or env WATCHKEEPER_PAGER_KEY). Never printed.", secret=True)


def pager_spec_with_settings(channel: PagerChannel) -> ChannelSpec:
    def build(config: Config, context: BuildContext) -> PagerChannel:
        return channel

    return ChannelSpec(name="pager", title="Pager", enabled=lambda config: config.section(PagerSettings).port > 0,
                       build=build, settings=PagerSettings, env={"WATCHKEEPER_PAGER_KEY": "key"})


def _config() -> Config:
    return parse_config({"toast": {"enabled": False}}, env={})


def _fire(db, specs, findings) -> None:
    dispatcher = Dispatcher(db, on_queue=[outbox_hook(_config(), utcnow, specs)])
    dispatcher.dispatch("check_a", findings, DAY, utcnow())


def test_a_spec_alone_adds_a_channel_to_queueing_delivery_status_and_secrets(db):
    channel = PagerChannel()
    specs = [pager_spec(channel)]
    service = DeliveryService(db, _config(), specs)
    _fire(db, specs, [Finding("s1", "warning", "problem 1")])
    assert service.drain_once() == 1
    assert [m.title for m in channel.sent] and channel.sent[0].buttons == [] and channel.sent[0].reply_to is None
    assert [(c["name"], c["pending"]) for c in service.status()] == [("pager", 0)]
    assert service.secrets == ("pager-secret-value",) == channel_secrets(_config(), specs)
    service.close()
    assert channel.closed


def test_alert_buttons_and_recovery_replies_come_from_the_spec(db):
    channel = PagerChannel()
    specs = [pager_spec(channel, alert_buttons=lambda config, db, nid: [("Ack", f"ack:{nid}")], supports_replies=True)]
    service = DeliveryService(db, _config(), specs)
    _fire(db, specs, [Finding("s1", "warning", "problem 1")])
    service.drain_once()
    _fire(db, specs, [])  # the subject cleared: a recovery
    service.drain_once()
    alert, recovery = channel.sent
    assert alert.buttons and alert.buttons[0][0] == "Ack" and alert.reply_to is None
    assert recovery.buttons == [] and recovery.reply_to == "p1"
    service.close()


def test_a_spec_without_buttons_or_replies_gets_plain_messages(db):
    channel = PagerChannel()
    specs = [pager_spec(channel)]
    service = DeliveryService(db, _config(), specs)
    _fire(db, specs, [Finding("s1", "warning", "problem 1")])
    _fire(db, specs, [])
    service.drain_once()
    assert [(m.buttons, m.reply_to) for m in channel.sent] == [([], None), ([], None)]
    service.close()


def test_skipped_kinds_are_never_queued_for_that_channel(db):
    channel = PagerChannel()
    specs = [pager_spec(channel, skipped_kinds=frozenset({"alert"}))]
    _fire(db, specs, [Finding("s1", "warning", "problem 1")])
    assert db.execute_sql("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_builtin_channels_are_toast_then_telegram_and_telegram_needs_token_and_chat():
    assert [spec.name for spec in CHANNELS] == ["toast", "telegram"]
    assert enabled_channels(parse_config({}, env={}), CHANNELS) == ["toast"]
    configured = parse_config({"telegram": {"token": TOKEN, "chat_id": "42"}}, env={})
    assert enabled_channels(configured, CHANNELS) == ["toast", "telegram"]
    assert channel_secrets(configured, CHANNELS) == (TOKEN,)
    assert enabled_channels(parse_config({"telegram": {"token": TOKEN}}, env={}), CHANNELS) == ["toast"]


def test_the_weekly_digest_goes_to_telegram_only_with_buttons_and_replies_on_telegram_only():
    assert not toast.SPEC.receives("weekly") and toast.SPEC.receives("alert")
    assert telegram.SPEC.receives("weekly")
    assert telegram.SPEC.supports_buttons and telegram.SPEC.supports_replies
    assert not toast.SPEC.supports_buttons and not toast.SPEC.supports_replies


def test_declared_limits_are_the_ones_the_channels_enforce():
    from engine.channels.telegram.format import MAX_TEXT

    assert (toast.SPEC.limits.title_max, toast.SPEC.limits.body_max, toast.SPEC.limits.parts) == (
        toast.TITLE_MAX, toast.BODY_MAX, 1)
    title, body = toast.fit_toast("t" * 500, "b" * 500)
    assert len(title) == toast.SPEC.limits.title_max and len(body) == toast.SPEC.limits.body_max
    assert telegram.SPEC.limits.body_max == MAX_TEXT and telegram.SPEC.limits.parts is None


def test_a_spec_alone_adds_its_config_section_parsed_validated_templated_overridden_and_redacted(db):
    channel = PagerChannel()
    units = dataclasses.replace(UNITS, channels=(*CHANNELS, pager_spec_with_settings(channel)))  # the registry line

    config = compose.parse_config({"pager": {"port": 2525}}, units, env={"WATCHKEEPER_PAGER_KEY": "pager-key-123"})
    assert (config.pager.port, config.section(PagerSettings).key) == (2525, "pager-key-123")
    assert config.warnings == []
    assert redacted(config)["pager"] == {"port": 2525, "key": "<set>"}
    assert "pager-key-123" not in repr(redacted(config))
    assert enabled_channels(config, units.channels) == ["toast", "pager"]

    with pytest.raises(ConfigError) as err:
        compose.parse_config({"pager": {"port": 0}}, units, env={})
    assert str(err.value) == "pager.port = 0 is not allowed: expected a port number from 1 to 65535"
    with pytest.raises(ConfigError) as err:
        compose.parse_config({"pager": {"key": 12345}}, units, env={})
    assert "12345" not in str(err.value)

    template = compose.config_template(units)
    assert "[pager]\n# Port of the pager gateway.\n# port = 4321\n" in template
    assert compose.config_template(UNITS) == template.replace(
        "[pager]\n# Port of the pager gateway.\n# port = 4321\n"
        "# Gateway key (or env WATCHKEEPER_PAGER_KEY). Never printed.\n# key = \"\"\n\n", "")
    assert "pager" in compose.parse_config({"pagr": {}}, units, env={}).warnings[0]
    assert any("unknown section" in w for w in compose.parse_config({"pager": {}}, UNITS, env={}).warnings)


def test_a_section_name_registered_twice_is_refused():
    twice = dataclasses.replace(UNITS, channels=(*CHANNELS, dataclasses.replace(toast.SPEC, name="api")))
    with pytest.raises(ValueError, match=r"\[api\] is registered twice"):
        compose.parse_config({}, twice, env={})
