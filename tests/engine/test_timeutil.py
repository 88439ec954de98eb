"""Durations and stored timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.timeutil import (
    MAX_DURATION,
    duration_problem,
    format_duration,
    from_db,
    human_time,
    parse_duration,
    probe_local_zone,
    spaced_duration,
    to_db,
)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1w", 604800), ("45", 45),
    ("5min", 300), ("1h 30min", 5400),
])
def test_parse_duration_accepts_common_forms(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "0m", "-5m", "2x", "h1", "inf", "nan", "1e400s", "0.0000001s"])
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


@pytest.mark.parametrize("text", ["99999999999d", "36501d", "9" * 60 + "s", "1" + "0" * 40])
def test_absurd_durations_are_a_value_error_not_an_overflow(text):
    with pytest.raises(ValueError, match="duration too long"):
        parse_duration(text)


def test_the_longest_duration_still_adds_to_a_date():
    assert parse_duration("36500d") == MAX_DURATION
    assert datetime(2026, 1, 1, tzinfo=UTC) + MAX_DURATION < datetime.max.replace(tzinfo=UTC)


_PIECES = st.one_of(st.sampled_from(["w", "d", "h", "m", "min", "s", " ", ".", "-", "e", "inf", "nan", "0"]),
                    st.integers(min_value=0, max_value=10**40).map(str))


@given(st.one_of(st.text(max_size=80), st.lists(_PIECES, max_size=12).map("".join)))
def test_parse_duration_gives_a_bounded_positive_duration_or_a_value_error(text):
    try:
        delta = parse_duration(text)
    except ValueError:
        return
    assert timedelta(0) < delta <= MAX_DURATION
    format_duration(delta)


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.booleans(), st.none()))
def test_duration_problem_never_raises(value):
    problem = duration_problem(value, timedelta(seconds=1), timedelta(days=365))
    if problem is None:
        assert timedelta(seconds=1) <= parse_duration(str(value)) <= timedelta(days=365)


def test_duration_problem_names_the_range():
    low, high = timedelta(seconds=1), timedelta(days=365)
    assert duration_problem("99999999999d", low, high) == "a duration from 1s to 365d"
    assert duration_problem("soon", low, high) == "a duration from 1s to 365d, such as 30m, 2h or 1d"
    assert duration_problem("6h", low, high) is None


def _raises(exc: Exception):
    def zone():
        raise exc
    return zone


@pytest.mark.parametrize("tz_env", ["UTC+5", "Nowhere/Zone", "/etc/passwd"])
def test_an_unusable_tz_falls_back_to_utc_naming_the_value(tz_env):
    zone, problem = probe_local_zone(tz_env, _raises(ZoneInfoNotFoundError(f"no zone {tz_env}")))
    assert zone.utcoffset(datetime(2026, 6, 1)) == timedelta(0)
    assert problem is not None and f"TZ={tz_env!r}" in problem and "using UTC" in problem


def test_an_empty_tz_means_utc_with_a_warning_without_asking_the_system():
    zone, problem = probe_local_zone("", _raises(AssertionError("must not be asked")))
    assert zone.utcoffset(datetime(2026, 6, 1)) == timedelta(0)
    assert problem is not None and "TZ=''" in problem and "using UTC" in problem


def test_an_undeterminable_machine_zone_falls_back_to_utc():
    zone, problem = probe_local_zone(None, _raises(ZoneInfoNotFoundError("Multiple conflicting time zones")))
    assert zone.utcoffset(datetime(2026, 6, 1)) == timedelta(0)
    assert problem is not None and "Multiple conflicting time zones" in problem and "using UTC" in problem


def test_a_warning_from_the_zone_lookup_becomes_the_one_reported_problem():
    import warnings

    def zone():
        warnings.warn("Timezone offset does not match system offset", stacklevel=1)
        return ZoneInfo("Europe/Berlin")

    found, problem = probe_local_zone(None, zone)
    assert found == ZoneInfo("Europe/Berlin")
    assert problem is not None and "does not match" in problem


def test_a_usable_zone_has_no_problem():
    assert probe_local_zone("Europe/Berlin", lambda: ZoneInfo("Europe/Berlin")) == (ZoneInfo("Europe/Berlin"), None)


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("utc", "shown"), [
    (datetime(2026, 12, 1, 13, 5, 42, 123456, tzinfo=UTC), "2026-12-01 14:05 CET"),  # winter: +1
    (datetime(2026, 7, 1, 12, 5, tzinfo=UTC), "2026-07-01 14:05 CEST"),  # summer: +2
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "2026-03-29 01:59 CET"),  # the minute before the change
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "2026-03-29 03:00 CEST"),  # 02:00 local never happens
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25 02:30 CEST"),  # 02:30 happens twice...
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25 02:30 CET"),  # ...the abbreviation tells them apart
])
def test_human_time_is_the_local_minute_with_the_zone_abbreviation(utc, shown):
    assert human_time(utc, BERLIN) == shown


def test_human_time_reads_stored_text_shows_seconds_only_when_asked_and_says_never():
    stored = "2026-12-01T13:05:42.123456Z"
    assert human_time(stored, BERLIN) == "2026-12-01 14:05 CET"
    assert human_time(stored, BERLIN, seconds=True) == "2026-12-01 14:05:42 CET"  # no microseconds
    assert human_time(stored, timezone.utc) == "2026-12-01 13:05 UTC"
    assert human_time(datetime(2026, 12, 1, 13, 5), ZoneInfo("UTC")) == "2026-12-01 13:05 UTC"  # naive is UTC
    assert human_time(None, BERLIN) == "never" and human_time("", BERLIN, never="-") == "-"



def test_human_time_formats_a_repeated_instant_once_per_zone_and_the_same_instant_alike():
    from engine.timeutil import _human_time

    at = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)
    human_time(at, BERLIN)
    hits = _human_time.cache_info().hits
    assert human_time(at.astimezone(ZoneInfo("Asia/Tokyo")), BERLIN) == "2026-12-01 14:05 CET"  # the same instant
    assert _human_time.cache_info().hits == hits + 1
    assert human_time(at, ZoneInfo("Asia/Tokyo")) == "2026-12-01 22:05 JST"  # another zone is its own text

def test_spaced_duration_reads_as_words():
    assert [spaced_duration(timedelta(seconds=s)) for s in (45, 2700, 11520, 187200)] == [
        "45 s", "45 min", "3 h 12 min", "2 d 4 h"]
