"""One bot token on two machines: a button press acts only on the instance that sent the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import machine
from engine.alerts import store
from engine.channels.telegram import identity
from engine.channels.telegram.buttons import ButtonPress, alert_buttons, parse_callback
from engine.channels.telegram.format import CALLBACK_DATA_MAX_BYTES
from engine.engine import Engine
from engine.paths import Paths
from engine.store.db import connection
from tests.delivery_helpers import CHAT, start_telegram_demo_engine
from tests.fakes.telegram_api import FakeTelegramServer
from tests.helpers import wait_until


def _paths(root: Path) -> Paths:
    return Paths(config_dir=root / "config", data_dir=root / "data", log_dir=root / "logs").ensure()


def _engine(paths: Paths, fake: FakeTelegramServer, machine_name: str = "") -> Engine:
    return start_telegram_demo_engine(paths, fake, general={"machine_name": machine_name} if machine_name else None)


def _alert_states(engine: Engine) -> list[str]:
    with connection(engine.db):
        return [a.state for a in store.list_alerts(engine.db, check="stale_applications")]


def _sent_rows(engine: Engine) -> int:
    with connection(engine.db):
        return int(engine.db.execute_sql("SELECT count(*) FROM outbox WHERE state = 'sent'").fetchone()[0])


def _press(fake: FakeTelegramServer, message_id: int, data: str) -> str:
    """Press a button and wait until the poller answered it and confirmed the update."""
    callback = fake.push_callback(CHAT, message_id, data)
    wait_until(lambda: callback in fake.answers and fake.pending_updates == 0, timeout=15,
               message=f"the answer to {data!r}")
    return fake.answers[callback] or ""


def test_press_on_another_instances_message_is_refused_and_changes_nothing(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(machine, "host_name", lambda: "alpha-pc")  # the OS leaf: the host name
    a_paths = _paths(tmp_path / "a")
    alpha = _engine(a_paths, fake)
    try:
        alpha.checks.run("stale_applications", "manual")
        a_msg = wait_until(lambda: next((m for m in fake.messages if "no answer for 9 days" in m.text), None),
                           timeout=15, message="alpha's alert")
    finally:
        alpha.stop("test")
    a_data = dict(a_msg.buttons)["Ack"]

    monkeypatch.setattr(machine, "host_name", lambda: "beta-pc")
    beta = _engine(_paths(tmp_path / "b"), fake)
    try:
        beta.checks.run("stale_applications", "manual")
        b_msg = wait_until(lambda: next((m for m in fake.messages if "no answer for 9 days" in m.text
                                         and m.message_id != a_msg.message_id), None), timeout=15)
        b_data = dict(b_msg.buttons)["Ack"]
        a_press, b_press = parse_callback(a_data), parse_callback(b_data)
        assert a_press and b_press and a_press.notification_id == b_press.notification_id  # same number
        assert a_press.instance_id != b_press.instance_id

        answer = _press(fake, a_msg.message_id, a_data)
        assert answer == "Handled by Watchkeeper on alpha-pc; nothing changed here."
        legacy = _press(fake, a_msg.message_id, f"ack:{a_press.notification_id}")  # sent before instance ids
        assert legacy.startswith("Handled by another Watchkeeper")
        assert _alert_states(beta) == ["open"]
        assert fake.requests_for("editMessageText") == []
        with connection(beta.db):
            assert identity.other_machines(beta.db) == ["alpha-pc"]  # the bot is shared: remembered
        assert "[beta-pc]" not in b_msg.text  # before that, messages did not name their machine
        beta.checks.run("goal_staleness", "manual")
        named = wait_until(lambda: next((m for m in fake.messages if "Run a half marathon" in m.text), None),
                           timeout=15, message="beta's next alert")
        assert named.text.startswith("<b>[beta-pc] ")  # [telegram] name_machine = "auto" names it now
    finally:
        beta.stop("test")

    alpha = _engine(a_paths, fake)  # the same data folder: the same instance id
    try:
        assert "Acknowledged" in _press(fake, a_msg.message_id, a_data)
        assert _alert_states(alpha) == ["acknowledged"]
        assert [r.params["message_id"] for r in fake.requests_for("editMessageText")] == [a_msg.message_id]
    finally:
        alpha.stop("test")


def test_buttons_carry_the_configured_machine_name_not_the_host_name(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(machine, "host_name", lambda: "host-1234")  # the OS leaf: a name nobody uses
    alpha = _engine(_paths(tmp_path / "a"), fake, machine_name="Study desktop")
    try:
        alpha.checks.run("stale_applications", "manual")
        a_msg = wait_until(lambda: next((m for m in fake.messages if "no answer for 9 days" in m.text), None),
                           timeout=15, message="alpha's alert")
    finally:
        alpha.stop("test")
    a_data = dict(a_msg.buttons)["Ack"]
    a_press = parse_callback(a_data)
    assert a_press is not None and a_press.machine == "Study desktop"

    beta = _engine(_paths(tmp_path / "b"), fake, machine_name="Garage server")
    try:
        beta.checks.run("stale_applications", "manual")
        answer = _press(fake, a_msg.message_id, a_data)
        assert answer == "Handled by Watchkeeper on Study desktop; nothing changed here."
        with connection(beta.db):
            assert identity.other_machines(beta.db) == ["Study desktop"]
        assert _alert_states(beta) == ["open"]
    finally:
        beta.stop("test")


def test_old_button_data_is_accepted_on_the_message_this_instance_sent(tmp_path, fake):
    engine = _engine(_paths(tmp_path / "a"), fake)
    try:
        engine.checks.run("stale_applications", "manual")
        msg = wait_until(lambda: next((m for m in fake.messages if "no answer for 9 days" in m.text), None),
                         timeout=15)
        press = parse_callback(dict(msg.buttons)["Ack"])
        assert press is not None
        wait_until(lambda: _sent_rows(engine) == 1, timeout=15, message="the outbox row marked sent")
        assert "Acknowledged" in _press(fake, msg.message_id, f"ack:{press.notification_id}")
        assert _alert_states(engine) == ["acknowledged"]
    finally:
        engine.stop("test")


@pytest.mark.parametrize("machine", ["laptop", "a-very-long-machine-name-" * 4, "Ноутбук-Марии-" * 5, "odd:name"])
def test_button_data_names_the_instance_and_fits_telegrams_64_bytes(machine):
    for _, data in alert_buttons(1234567890, "0a1b2c3d", machine):
        assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
        press = parse_callback(data)
        assert press is not None and press.notification_id == 1234567890 and press.instance_id == "0a1b2c3d"
        assert press.machine and machine.replace(":", "-").startswith(press.machine)


def test_parse_callback_reads_old_data_and_rejects_junk():
    assert parse_callback("ack:12") == ButtonPress("ack", 12, None)
    assert parse_callback("s1h:12:0a1b2c3d:") == ButtonPress("s1h", 12, "0a1b2c3d", None)
    for junk in ("ack", "ack:x", "nope:12", "ack:12:NOTHEX!!:m", "ack:12:0a1b"):
        assert parse_callback(junk) is None
