"""Durations and stored timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.timeutil import format_duration, from_db, parse_duration, to_db


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1w", 604800), ("45", 45),
])
def test_parse_duration_accepts_common_forms(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "0m", "-5m", "2x", "h1"])
def test_parse_duration_rejects_non_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_stored_times_round_trip_and_sort_as_they_read():
    a = datetime(2026, 2, 22, 10, 15, tzinfo=timezone.utc)
    b = a + timedelta(microseconds=1)
    assert from_db(to_db(a)) == a
    assert to_db(a) < to_db(b)
    assert to_db(a.astimezone(timezone(timedelta(hours=5)))) == to_db(a)


def test_format_duration_is_compact():
    assert format_duration(timedelta(hours=4, minutes=15)) == "4h 15m"
    assert format_duration(timedelta(hours=24)) == "24h"
    assert format_duration(timedelta(days=3, hours=2)) == "3d 2h"
    assert format_duration(timedelta(seconds=45)) == "45s"
