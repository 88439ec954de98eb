"""engine.actions.pausing: until tomorrow 08:00 and custom pauses (a duration or a clock time), pure
with an injected clock and zone, and the action on a real database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.actions import pausing
from engine.actions.check_config import hide_secrets
from engine.actions.errors import Invalid
from engine.actions.target import Offline
from engine.units import UNITS
from tests.engine.actions.conftest import quiet_config

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 28, 22, 30, tzinfo=timezone.utc)  # 23:30 in Berlin, the night before DST starts


def test_tomorrow_at_eight_is_the_next_local_day_across_a_dst_change():
    until = pausing.tomorrow_at(NOW, BERLIN)
    assert until == datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN)
    assert until.astimezone(timezone.utc) == datetime(2026, 3, 29, 6, 0, tzinfo=timezone.utc)  # CEST


def test_a_custom_clock_time_is_its_next_occurrence_in_the_users_zone():
    assert pausing.custom_until(NOW, "23:45", BERLIN) == datetime(2026, 3, 28, 23, 45, tzinfo=BERLIN)
    assert pausing.custom_until(NOW, "07:15", BERLIN) == datetime(2026, 3, 29, 7, 15, tzinfo=BERLIN)


def test_a_custom_duration_counts_from_now():
    assert pausing.custom_until(NOW, " 90m ", BERLIN) == NOW + timedelta(minutes=90)


@pytest.mark.parametrize("text", ["", "soon", "25:00", "-1h", "45d"])
def test_a_bad_custom_pause_is_invalid_naming_the_forms(text):
    with pytest.raises(Invalid, match="duration such as 2h or a time such as 18:30"):
        pausing.custom_until(NOW, text, BERLIN)


def test_pause_until_morning_stores_the_pause(db):
    target = Offline(db, quiet_config(general={"timezone": "Europe/Berlin"}), UNITS, now=lambda: NOW)
    state = pausing.pause_until_morning(target)
    assert state.paused_until == datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN)
    assert pausing.pause_custom(target, "2h").paused_until == NOW + timedelta(hours=2)


def test_hide_secrets_masks_url_passwords_and_secret_keys_everywhere():
    params = {"urls": ["https://u:pw@h/x", "http://plain/y"], "api_token": "abc", "empty_password": "",
              "nested": {"headers": {"Authorization": "Bearer z"}, "n": 3}}
    assert hide_secrets(params) == {"urls": ["https://u:***@h/x", "http://plain/y"], "api_token": "<set>",
                                    "empty_password": "", "nested": {"headers": {"Authorization": "<set>"}, "n": 3}}
