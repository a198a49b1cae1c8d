"""SessionBlockOutside (seed 001, hard lockout by the clock): trade only inside trading hours.

`sessions` maps weekday names to windows of local time, `"HH:MM-HH:MM"`, start included and
end excluded; `24:00` is allowed as an end (midnight after the day). A window lies within one
local day: a session across midnight is written as two windows, `sunday: ["18:00-24:00"]` and
`monday: ["00:00-17:00"]`, and windows that touch or overlap are one session (no session end
at midnight). A weekday without an entry is closed, and so is a local date in `holidays` (its
windows are dropped; a window of the day before that runs into it is not). Local times become
UTC through zoneinfo, so "09:30 America/New_York" is 14:30 UTC in winter and 13:30 UTC in
summer; a local time in a DST gap or overlap is read as zoneinfo reads it (fold 0: the offset
before the change).

Gate: an order that adds risk outside a session is refused (`outside_session`), saying when
the next session opens. At the session end exactly, the session is over. React: when a session
the rule saw open ends (a clock tick at `next_deadline`, or any later event that finds the time
past the end), every account with positions or working orders is flattened and its orders
cancelled, once per session end (`flatten_at_session_end`). Exits are never blocked.

The state remembers the end of the session seen open, or, for a session whose end is not yet in
sight (a 24/7 calendar), until when no event can find its end, having looked further ahead once;
until then an event, and a check, costs one comparison instead of working the calendar out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, OrderApproved
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import require_timezone

__all__ = ["SessionBlockOutside", "SessionBlockOutsideParams", "SessionState"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_OPENING_HORIZON_DAYS = 400  # how far ahead the next opening is looked for (holidays may close weeks)
_END_HORIZON_DAYS = 15  # how far ahead a session's end is looked for; a longer session has no end yet
_QUIET_HORIZON_DAYS = 2 * _END_HORIZON_DAYS  # looked over when no end is found, so the next days need no look


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionBlockOutsideParams(RuleParams):
    sessions: dict[str, list[str]]  # weekday name -> local windows "HH:MM-HH:MM"; a day not listed is closed
    timezone: str = "America/New_York"  # IANA name the windows and holidays are in
    holidays: list[date | str] = field(default_factory=list)  # local dates "YYYY-MM-DD" closed all day
    flatten_at_session_end: bool = True  # close positions and cancel orders when a session ends


@dataclass(frozen=True, slots=True)
class SessionState:
    """`open_until`: the end (UTC) of the session the rule last saw open, until it has acted on it.
    `quiet_until` (with no `open_until`): the session the rule last saw open has no end in sight,
    and stays open, with no end in sight either (see `session_end`), for every instant from then
    to `quiet_until`."""

    open_until: datetime | None = None
    quiet_until: datetime | None = None


class SessionBlockOutside(Rule[SessionBlockOutsideParams, SessionState]):
    name = "session_block_outside"
    gate = True
    reactive = True

    def __init__(self, params: SessionBlockOutsideParams) -> None:
        super().__init__(params)
        self.timezone: ZoneInfo = require_timezone("timezone", params.timezone)
        self.windows = _parse_sessions(params.sessions)
        self.holidays = _parse_holidays(params.holidays)

    def initial_state(self) -> SessionState:
        return SessionState()

    # -- the calendar ----------------------------------------------------------------------

    def _windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's windows in UTC, in order (none on a holiday)."""
        if day in self.holidays:
            return []
        return [(self._instant(day, start), self._instant(day, end)) for start, end in self.windows[day.weekday()]]

    def _instant(self, day: date, minutes: int) -> datetime:
        local = datetime.combine(day + timedelta(days=minutes // 1440), time(*divmod(minutes % 1440, 60)))
        return local.replace(tzinfo=self.timezone).astimezone(UTC)

    def _windows_from(self, day: date, days: int) -> Iterator[tuple[datetime, datetime]]:
        for ahead in range(days):
            yield from self._windows_on(day + timedelta(days=ahead))

    def session_at(self, ts: datetime) -> tuple[datetime, datetime] | None:
        """The window containing `ts` (start <= ts < end), or None when outside every window."""
        for start, end in self._windows_on(ts.astimezone(self.timezone).date()):
            if start <= ts < end:
                return start, end
        return None

    def session_end(self, ts: datetime) -> datetime | None:
        """When the session containing `ts` ends, windows that touch or overlap joined; None when
        `ts` is outside, or when the session runs on for more than two weeks (a 24/7 calendar:
        its end is found by a later event, once it is near)."""
        return self._look_ahead(ts).open_until

    def _look_ahead(self, ts: datetime) -> SessionState:
        """What an event at `ts` leaves to remember: `open_until`, the end of the session containing
        `ts` when it lies within `_END_HORIZON_DAYS` local days (what `session_end` returns); else,
        inside a session, `quiet_until`. The calendar is then looked over `_QUIET_HORIZON_DAYS`
        days: when the session runs unbroken over local days d0 .. d0 + k - 1 (d0: `ts`'s day; k:
        all of them, or those before the day a break is seen), a later event in the session on a
        day up to d0 + k - `_END_HORIZON_DAYS` looks for the end only over days of that stretch,
        where it finds no break either. `quiet_until` is the first instant of the day after that
        (or the session's end, when earlier): until then an event has nothing to work out."""
        window = self.session_at(ts)
        if window is None:
            return SessionState()
        day = ts.astimezone(self.timezone).date()
        end = window[1]
        for ahead in range(_QUIET_HORIZON_DAYS):
            for start, later_end in self._windows_on(day + timedelta(days=ahead)):
                if start > end:
                    if ahead < _END_HORIZON_DAYS:
                        return SessionState(end)
                    return SessionState(quiet_until=self._quiet_until(day, ahead, end))
                end = max(end, later_end)
        return SessionState(quiet_until=self._quiet_until(day, _QUIET_HORIZON_DAYS, end))

    def _quiet_until(self, day: date, unbroken_days: int, open_until: datetime) -> datetime:
        """The first instant of local day `day + unbroken_days - _END_HORIZON_DAYS + 1`, or `open_until`
        when earlier (days without windows at the end of the stretch)."""
        last_quiet_day = day + timedelta(days=unbroken_days - _END_HORIZON_DAYS + 1)
        return min(open_until, self._instant(last_quiet_day, 0))

    def next_open(self, ts: datetime) -> datetime | None:
        """The start of the first window after `ts`, or None within the horizon."""
        windows = self._windows_from(ts.astimezone(self.timezone).date(), _OPENING_HORIZON_DAYS)
        return next((start for start, _ in windows if start > ts), None)

    # -- gate and reaction -----------------------------------------------------------------

    def check(self, order: OrderRequest, view: AccountView, state: SessionState) -> Verdict:
        if _open_at(state, view.now) or self.session_at(view.now) is not None:
            return ALLOW
        today = view.now.astimezone(self.timezone).date()
        why = f"{today.isoformat()} is a holiday" if today in self.holidays else "it is outside trading hours"
        opens = self.next_open(view.now)
        then = "no session opens within a year" if opens is None else f"the next session opens {self._local(opens)}"
        return Deny(
            self.name,
            "outside_session",
            f"new risk on {order.account} is refused: {why} ({self._local(view.now)}); {then}",
        )

    def react(self, event: Event, view: AccountView, state: SessionState) -> tuple[SessionState, Sequence[Action]]:
        if isinstance(event, OrderApproved) or not self.params.flatten_at_session_end:
            return state, ()  # an approval may only be counted, never acted on
        if _open_at(state, view.now):
            return state, ()  # still the session already seen, its end known or not in sight: nothing to work out
        actions: list[Action] = []
        if state.open_until is not None:
            actions = self._flatten(view, state.open_until)
        return self._look_ahead(view.now), actions

    def next_deadline(self, view: AccountView, state: SessionState) -> datetime | None:
        return state.open_until

    def _flatten(self, view: AccountView, ended: datetime) -> list[Action]:
        held = [p.account for p in view.ledger.open_positions()]
        accounts = dict.fromkeys([*held, *(o.account for o in view.orders.all())])
        reason = f"the trading session ended at {self._local(ended)}"
        actions: list[Action] = []
        for account in accounts:
            sentence = f"{reason}; {account} is flattened and its orders cancelled"
            actions += breach_actions(self.name, Enforcement.FLATTEN, view, account, sentence, None)
        return actions

    def _local(self, ts: datetime) -> str:
        local = ts.astimezone(self.timezone)
        return f"{local.strftime('%a %Y-%m-%d %H:%M')} {self.timezone.key}"


def _open_at(state: SessionState, now: datetime) -> bool:
    """Does `state` (left by an event at or before `now`) tell that `now` is inside a session?"""
    until = state.open_until if state.open_until is not None else state.quiet_until
    return until is not None and now < until


def _parse_sessions(sessions: object) -> dict[int, list[tuple[int, int]]]:
    """{weekday 0-6: [(start minute, end minute)], sorted}; every weekday present."""
    if not isinstance(sessions, dict) or not sessions:
        raise InvalidInput("sessions", sessions, 'must map weekday names to windows, e.g. {monday: ["09:30-16:00"]}')
    windows: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for name, listed in sessions.items():
        day = name.strip().lower() if isinstance(name, str) else name
        if day not in WEEKDAYS:
            raise InvalidInput("sessions", name, f"is not a weekday; use one of {', '.join(WEEKDAYS)}")
        if isinstance(listed, str) or not isinstance(listed, list | tuple):
            raise InvalidInput(f"sessions.{day}", listed, 'must be a list of windows such as ["09:30-16:00"]')
        windows[WEEKDAYS.index(day)] += [_parse_window(f"sessions.{day}", text) for text in listed]
    if not any(windows.values()):
        raise InvalidInput("sessions", sessions, "has no window at all: trading would never be allowed")
    return {day: sorted(found) for day, found in windows.items()}


def _parse_window(field_name: str, text: object) -> tuple[int, int]:
    match = _WINDOW.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(field_name, text, 'must be a window "HH:MM-HH:MM" such as "09:30-16:00"')
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or start_m > 59 or end_m > 59 or end > 1440:
        raise InvalidInput(field_name, text, "has a time that does not exist (00:00 to 23:59, or 24:00 as an end)")
    if end <= start:
        raise InvalidInput(
            field_name,
            text,
            "must end after it starts on the same day; split a session across midnight into two days, "
            'e.g. sunday ["18:00-24:00"] and monday ["00:00-17:00"]',
        )
    return start, end


def _parse_holidays(holidays: object) -> frozenset[date]:
    """The holiday dates, given as dates (YAML reads 2026-12-25 as one) or "YYYY-MM-DD" texts."""
    if isinstance(holidays, str) or not isinstance(holidays, list | tuple):
        raise InvalidInput("holidays", holidays, 'must be a list of dates such as ["2026-12-25"]')
    return frozenset(_parse_day(value) for value in holidays)


def _parse_day(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput("holidays", value, 'must be a date "YYYY-MM-DD" such as "2026-12-25"')
