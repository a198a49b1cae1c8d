"""Resets at a local time in an IANA timezone, across the US DST changes of 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from riskguard.core import InvalidInput, ResetSchedule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CME = ResetSchedule.daily("17:00", "America/New_York")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Friday 2026-03-06, EST (UTC-5): 17:00 New York is 22:00 UTC
        (utc(2026, 3, 6, 14, 30), utc(2026, 3, 6, 22, 0)),
        # exactly at a reset, the next one is a day later: resets are strictly after `now`
        (utc(2026, 3, 6, 22, 0), utc(2026, 3, 7, 22, 0)),
        # Sunday 2026-03-08: clocks spring forward at 02:00; 17:00 EDT (UTC-4) is 21:00 UTC
        (utc(2026, 3, 8, 12, 0), utc(2026, 3, 8, 21, 0)),
        # Saturday 2026-10-31 is still EDT; Sunday 2026-11-01 falls back: 17:00 EST is 22:00 UTC
        (utc(2026, 10, 31, 12, 0), utc(2026, 10, 31, 21, 0)),
        (utc(2026, 11, 1, 12, 0), utc(2026, 11, 1, 22, 0)),
    ],
)
def test_next_reset_when_dst_changes_then_the_local_time_is_kept(now: datetime, expected: datetime) -> None:
    assert CME.next_reset(now) == expected


def test_period_when_spring_forward_then_the_day_is_23_hours_long() -> None:
    # Arrange: 16:00 EDT on Sunday 2026-03-08
    now = utc(2026, 3, 8, 20, 0)
    # Act
    start, end = CME.period_start(now), CME.next_reset(now)
    # Assert: from Saturday 17:00 EST (22:00 UTC) to Sunday 17:00 EDT (21:00 UTC)
    assert (start, end) == (utc(2026, 3, 7, 22, 0), utc(2026, 3, 8, 21, 0))
    assert (end - start).total_seconds() == 23 * 3600


def test_period_when_fall_back_then_the_day_is_25_hours_long() -> None:
    # Arrange: noon UTC on Sunday 2026-11-01 (07:00 EST)
    now = utc(2026, 11, 1, 12, 0)
    # Act
    start, end = CME.period_start(now), CME.next_reset(now)
    # Assert: from Saturday 17:00 EDT (21:00 UTC) to Sunday 17:00 EST (22:00 UTC)
    assert (start, end) == (utc(2026, 10, 31, 21, 0), utc(2026, 11, 1, 22, 0))
    assert (end - start).total_seconds() == 25 * 3600


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 3, 6, 14, 30), date(2026, 3, 6)),  # Friday morning in New York
        (utc(2026, 3, 6, 22, 0), date(2026, 3, 7)),  # Friday 17:00: the next trading day begins
        (utc(2026, 3, 8, 22, 0), date(2026, 3, 9)),  # Sunday 18:00 EDT belongs to Monday, as CME counts
    ],
)
def test_trading_day_when_after_the_evening_reset_then_it_is_the_next_day(now: datetime, expected: date) -> None:
    assert CME.trading_day(now) == expected


def test_trading_day_when_reset_is_utc_midnight_then_it_is_the_utc_date() -> None:
    schedule = ResetSchedule.daily("00:00", "UTC")
    assert schedule.trading_day(utc(2026, 3, 6, 23, 59)) == date(2026, 3, 6)
    assert schedule.trading_day(utc(2026, 3, 7, 0, 0)) == date(2026, 3, 7)


def test_reset_when_time_falls_in_the_dst_gap_then_offset_before_the_change_is_used() -> None:
    # Arrange: 02:30 does not exist in New York on 2026-03-08 (02:00 EST jumps to 03:00 EDT)
    schedule = ResetSchedule.daily("02:30", "America/New_York")
    # Act / Assert: 02:30 at the EST offset is 07:30 UTC, which the new wall clock reads as 03:30
    assert schedule.next_reset(utc(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 7, 30)


def test_weekly_reset_when_sunday_evening_then_next_sunday_across_dst() -> None:
    # Arrange
    schedule = ResetSchedule.weekly(6, "17:00", "America/New_York")
    now = utc(2026, 3, 6, 14, 30)  # Friday
    # Act / Assert: last Sunday 17:00 EST, next Sunday 17:00 EDT
    assert schedule.period_start(now) == utc(2026, 3, 1, 22, 0)
    assert schedule.next_reset(now) == utc(2026, 3, 8, 21, 0)


@pytest.mark.parametrize(
    ("at", "timezone", "field", "problem"),
    [
        ("17:00", "America/NewYork", "timezone", "is not a known IANA timezone"),
        ("17:00", "", "timezone", "must be an IANA timezone name"),
        ("5pm", "UTC", "reset_time", 'must be a time of day such as "17:00"'),
        ("25:00", "UTC", "reset_time", 'must be a time of day such as "17:00"'),
    ],
)
def test_schedule_when_invalid_then_error_names_field(at: str, timezone: str, field: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        ResetSchedule.daily(at, timezone)
    assert caught.value.field == field
