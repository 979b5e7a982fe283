"""harness.clock: the one contract for OCPP time (its module docstring)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from harness import clock

PARIS = timezone(timedelta(hours=1))


def test_iso_is_utc_milliseconds_z():
    moment = datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=PARIS)
    assert clock.iso(moment) == "2026-03-01T12:00:00.123Z"
    assert clock.iso(datetime(2026, 3, 1, 12)) == "2026-03-01T12:00:00.000Z"  # naive: UTC
    assert clock.now_iso().endswith("Z") and clock.now().tzinfo is not None


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01T12:00:00Z", datetime(2026, 3, 1, 12, tzinfo=timezone.utc)),
    ("2026-03-01t13:00:00.5+01:00", datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)),
    ("2026-03-01T12:00:00.123456789z", datetime(2026, 3, 1, 12, 0, 0, 123456,
                                                tzinfo=timezone.utc)),
])
def test_parse_time_reads_rfc_3339_into_utc(text, expected):
    moment = clock.parse_time(text)
    assert moment == expected and moment.utcoffset() == timedelta(0)
    assert clock.require_time(text) == expected


@pytest.mark.parametrize("text", [
    None, 5, "", "yesterday", "2026-03-01", "2026-03-01 12:00:00Z", "2026-02-30T12:00:00Z",
    "2026-03-01T24:00:00Z", "2026-06-30T23:59:60Z", "2026-03-01T12:00:00+25:00",
    "2026-03-01T12:00:00",  # no timezone: ambiguous, not guessed
])
def test_parse_time_gives_none_for_what_is_not_one(text):
    assert clock.parse_time(text) is None
    with pytest.raises(ValueError, match="not an RFC 3339 date-time"):
        clock.require_time(text)


def test_a_lenient_reader_names_the_zone_it_assumes():
    assert clock.parse_time("2026-03-01T12:00:00", default_zone=clock.UTC) == \
        datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert clock.parse_time("2026-03-01T13:00:00", default_zone=PARIS) == \
        datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
