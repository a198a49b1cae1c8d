"""Daily and weekly resets at a wall-clock time in an IANA timezone, correct across DST.

A reset boundary is computed on the local calendar and converted to UTC, so "17:00
America/New_York" is 22:00 UTC in winter and 21:00 UTC in summer, and the days of the DST
changes are 23 and 25 hours long. A boundary that falls in a DST gap (a local time that does
not exist) is placed with the offset in force before the change: 02:30 on the spring-forward
day is 07:30 UTC, which the new wall clock reads as 03:30.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from riskguard.core.errors import InvalidInput, InvariantViolation

__all__ = ["ResetSchedule", "parse_time_of_day", "require_timezone"]


def require_timezone(field: str, value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise InvalidInput(field, value, "must be an IANA timezone name such as America/New_York or UTC")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            field, value, "is not a known IANA timezone (e.g. America/New_York, Europe/Prague, UTC)"
        ) from None


def parse_time_of_day(field: str, value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(field, value, 'must be a time of day such as "17:00"')


@dataclass(frozen=True, slots=True)
class ResetSchedule:
    """Resets every day at `at` local time in `timezone`, or once a week on `weekday`
    (0 = Monday ... 6 = Sunday) when it is given.

    The last period asked about is remembered, so the rules that ask on every order pay the
    calendar arithmetic once per period, not once per call."""

    at: time
    timezone: ZoneInfo
    weekday: int | None = None
    _last: list[tuple[datetime, datetime]] = field(default_factory=list, compare=False, repr=False)

    def period(self, ts: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the period holding `ts`: start <= ts < end, both UTC."""
        if self._last:
            start, end = self._last[0]
            if start <= ts < end:
                return start, end
        start = self._period_start(ts)
        end = self._next_reset(start)
        self._last[:] = [(start, end)]
        return start, end

    @classmethod
    def daily(cls, at: str, timezone: str) -> ResetSchedule:
        return cls(parse_time_of_day("reset_time", at), require_timezone("timezone", timezone))

    @classmethod
    def weekly(cls, weekday: int, at: str, timezone: str) -> ResetSchedule:
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise InvalidInput("weekday", weekday, "must be 0 (Monday) to 6 (Sunday)")
        return cls(parse_time_of_day("reset_time", at), require_timezone("timezone", timezone), weekday)

    def _boundary_on(self, day: date) -> datetime:
        local = datetime.combine(day, self.at, tzinfo=self.timezone)
        # Round trip through UTC: a time in a DST gap comes back as the first real instant after it.
        return local.astimezone(UTC)

    def period_start(self, ts: datetime) -> datetime:
        """The last reset at or before `ts` (UTC)."""
        return self.period(ts)[0]

    def next_reset(self, ts: datetime) -> datetime:
        """The first reset strictly after `ts` (UTC)."""
        return self.period(ts)[1]

    def _period_start(self, ts: datetime) -> datetime:
        day = ts.astimezone(self.timezone).date()
        for back in range(8 if self.weekday is not None else 2):
            candidate_day = day - timedelta(days=back)
            if self.weekday is not None and candidate_day.weekday() != self.weekday:
                continue
            boundary = self._boundary_on(candidate_day)
            if boundary <= ts:
                return boundary
        return self._boundary_on(day - timedelta(days=8 if self.weekday is not None else 2))  # pragma: no cover

    def _next_reset(self, ts: datetime) -> datetime:
        day = ts.astimezone(self.timezone).date()
        for ahead in range(9 if self.weekday is not None else 3):
            candidate_day = day + timedelta(days=ahead)
            if self.weekday is not None and candidate_day.weekday() != self.weekday:
                continue
            boundary = self._boundary_on(candidate_day)
            if boundary > ts:
                return boundary
        raise InvariantViolation(f"no reset of {self} found after {ts}")  # pragma: no cover

    def trading_day(self, ts: datetime) -> date:
        """The calendar day (in the schedule's timezone) on which most of `ts`'s period falls:
        with a 17:00 New York reset, Sunday 18:00 belongs to Monday, as CME counts it."""
        start, end = self.period(ts)
        return (start + (end - start) / 2).astimezone(self.timezone).date()

    def __str__(self) -> str:
        days = "" if self.weekday is None else ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.weekday] + " "
        return f"{days}{self.at.strftime('%H:%M')} {self.timezone.key}"
