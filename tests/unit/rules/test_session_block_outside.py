"""SessionBlockOutside: trading hours per weekday in New York, holidays, DST, and the flatten at the end."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from riskguard.core import (
    Action,
    AlertLevel,
    CancelAllOrders,
    ClockTicked,
    ClosePosition,
    Deny,
    Fill,
    InvalidInput,
    MarkUpdated,
    OrderApproved,
    RaiseAlert,
    RiskEngine,
)
from riskguard.core.decisions import ALLOW
from riskguard.core.rules.session_block_outside import (
    WEEKDAYS,
    SessionBlockOutside,
    SessionBlockOutsideParams,
    SessionState,
)
from tests.unit.rules._view import INSTRUMENTS, account, make_view, order, working

WEEKDAYS_0930_1600 = {day: ["09:30-16:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rule(**overrides: Any) -> SessionBlockOutside:
    settings: dict[str, Any] = {"sessions": WEEKDAYS_0930_1600, **overrides}
    return SessionBlockOutside(SessionBlockOutsideParams(**settings))


def fill(fill_id: str, side: str, qty: str, price: str, ts: datetime, **ids: str) -> Fill:
    who = {"account": "A1", "strategy": "s1", "symbol": "MNQ", **ids}
    return Fill(fill_id, f"o-{fill_id}", who["account"], who["strategy"], who["symbol"], side, qty, price, ts)  # type: ignore[arg-type]


def fields(action: Action) -> tuple[str, dict[str, Any]]:
    """An action without its id and sentence: its type and every field that says what to do."""
    return type(action).__name__, {k: v for k, v in asdict(action).items() if k not in ("id", "reason")}


# -- the gate ----------------------------------------------------------------------------------


def test_check_when_at_session_start_in_winter_then_allowed() -> None:
    # Arrange: Friday 2026-03-06 09:30 EST (UTC-5) = 14:30 UTC, the first instant of the window
    sessions = rule()
    # Act
    verdict = sessions.check(order(), make_view(utc("2026-03-06T14:30:00")), SessionState())
    # Assert
    assert verdict == ALLOW


def test_check_when_one_second_before_session_start_then_denied_with_next_opening() -> None:
    # Arrange: 14:29:59 UTC = 09:29:59 EST, one second before the window opens
    sessions = rule()
    # Act
    verdict = sessions.check(order(), make_view(utc("2026-03-06T14:29:59")), SessionState())
    # Assert
    assert verdict == Deny(
        "session_block_outside",
        "outside_session",
        "new risk on A1 is refused: it is outside trading hours (Fri 2026-03-06 09:29 America/New_York); "
        "the next session opens Fri 2026-03-06 09:30 America/New_York",
    )


def test_check_when_at_session_end_friday_then_denied_until_monday_in_summer_time() -> None:
    # Arrange: 16:00 EST = 21:00 UTC: the end is excluded; one second earlier is still inside
    sessions = rule()
    # Act
    before = sessions.check(order(), make_view(utc("2026-03-06T20:59:59")), SessionState())
    at_end = sessions.check(order(), make_view(utc("2026-03-06T21:00:00")), SessionState())
    # Assert: the next window is Monday 2026-03-09 09:30, after the DST change (EDT)
    assert before == ALLOW
    assert isinstance(at_end, Deny)
    assert at_end.code == "outside_session"
    assert at_end.message.endswith("the next session opens Mon 2026-03-09 09:30 America/New_York")


def test_check_when_monday_after_spring_forward_then_window_is_an_hour_earlier_in_utc() -> None:
    # Arrange: Monday 2026-03-09 is EDT (UTC-4): 09:30-16:00 local = 13:30-20:00 UTC
    sessions = rule()
    # Act
    verdicts = [
        sessions.check(order(), make_view(utc(ts)), SessionState())
        for ts in ("2026-03-09T13:29:59", "2026-03-09T13:30:00", "2026-03-09T19:59:59", "2026-03-09T20:00:00")
    ]
    # Assert
    assert [v == ALLOW for v in verdicts] == [False, True, True, False]


def test_check_when_holiday_then_denied_all_day_and_next_session_is_the_day_after() -> None:
    # Arrange: Monday 2026-03-09 is a holiday; 14:00 UTC = 10:00 EDT would be inside the window
    sessions = rule(holidays=["2026-03-09"])
    # Act
    verdict = sessions.check(order(), make_view(utc("2026-03-09T14:00:00")), SessionState())
    # Assert
    assert verdict == Deny(
        "session_block_outside",
        "outside_session",
        "new risk on A1 is refused: 2026-03-09 is a holiday (Mon 2026-03-09 10:00 America/New_York); "
        "the next session opens Tue 2026-03-10 09:30 America/New_York",
    )


def test_params_when_holiday_given_as_a_date_then_same_as_text() -> None:
    # Arrange: YAML reads an unquoted 2026-03-09 as a date
    sessions = rule(holidays=[date(2026, 3, 9)])
    # Act
    verdict = sessions.check(order(), make_view(utc("2026-03-09T14:00:00")), SessionState())
    # Assert
    assert isinstance(verdict, Deny)
    assert "2026-03-09 is a holiday" in verdict.message


def test_check_when_weekend_day_not_listed_then_closed() -> None:
    # Arrange: Saturday 2026-03-07 15:00 UTC; no saturday entry
    sessions = rule()
    # Act
    verdict = sessions.check(order(), make_view(utc("2026-03-07T15:00:00")), SessionState())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "outside_session"


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        # 2026-03-08 spring forward: 00:00 EST = 05:00 UTC, 12:00 EDT = 16:00 UTC (an 11-hour window)
        ("2026-03-08", "2026-03-08T05:00:00", "2026-03-08T16:00:00"),
        # 2026-11-01 fall back: 00:00 EDT = 04:00 UTC, 12:00 EST = 17:00 UTC (a 13-hour window)
        ("2026-11-01", "2026-11-01T04:00:00", "2026-11-01T17:00:00"),
    ],
)
def test_session_when_window_spans_a_dst_change_then_edges_follow_local_time(day: str, start: str, end: str) -> None:
    # Arrange: both days are Sundays
    sessions = rule(sessions={"sunday": ["00:00-12:00"]})
    # Act
    window = sessions.session_at(utc(start))
    ending = sessions.session_end(utc(start))
    # Assert
    assert window == (utc(start), utc(end))
    assert ending == utc(end)
    assert sessions.check(order(), make_view(utc(end) - timedelta(seconds=1)), SessionState()) == ALLOW
    assert sessions.check(order(), make_view(utc(end)), SessionState()) != ALLOW


def test_session_end_when_windows_touch_at_midnight_then_they_are_one_session() -> None:
    # Arrange: Sunday 18:00-24:00 and Monday 00:00-17:00; Sunday 2026-03-08 19:00 EDT = 23:00 UTC
    sessions = rule(sessions={"sunday": ["18:00-24:00"], "monday": ["00:00-17:00"]})
    # Act
    ending = sessions.session_end(utc("2026-03-08T23:00:00"))
    # Assert: Monday 17:00 EDT = 21:00 UTC, no end at midnight (04:00 UTC)
    assert ending == utc("2026-03-09T21:00:00")


def test_session_end_when_every_day_is_open_all_day_then_there_is_no_end() -> None:
    # Arrange: 24/7
    sessions = rule(sessions={day: ["00:00-24:00"] for day in WEEKDAYS})
    # Act / Assert
    assert sessions.session_end(utc("2026-03-06T15:00:00")) is None


# -- the reaction at the session end ------------------------------------------------------------


def test_react_when_event_inside_session_then_remembers_its_end_as_the_deadline() -> None:
    # Arrange
    sessions = rule()
    view = make_view(utc("2026-03-06T15:00:00"))
    # Act
    state, actions = sessions.react(ClockTicked(view.now), view, SessionState())
    # Assert: Friday 16:00 EST = 21:00 UTC
    assert list(actions) == []
    assert state == SessionState(utc("2026-03-06T21:00:00"))
    assert sessions.next_deadline(view, state) == utc("2026-03-06T21:00:00")


def test_react_when_one_second_before_end_then_nothing() -> None:
    # Arrange
    sessions = rule()
    now = utc("2026-03-06T20:59:59")
    view = make_view(now, fills=[fill("f1", "buy", "2", "18000.00", utc("2026-03-06T15:00:00"))])
    state = SessionState(utc("2026-03-06T21:00:00"))
    # Act
    after, actions = sessions.react(ClockTicked(now), view, state)
    # Assert
    assert list(actions) == []
    assert after == state


def test_react_when_session_ends_then_every_account_is_flattened_once() -> None:
    # Arrange: A1 long 2 MNQ with a working stop; A2 short 1 ES; A3 only a working order
    sessions = rule()
    end = utc("2026-03-06T21:00:00")
    opened = utc("2026-03-06T15:00:00")
    view = make_view(
        end,
        fills=[
            fill("f1", "buy", "2", "18000.00", opened),
            fill("f2", "sell", "1", "5000.00", opened, account="A2", symbol="ES"),
        ],
        orders=[
            working("stop1", "sell", "2"),
            working("b1", "buy", "1", account_id="A3", order_type="limit", price="17900.00", stop_price=None),
        ],
    )
    # Act
    state, actions = sessions.react(ClockTicked(end), view, SessionState(end))
    again, repeated = sessions.react(ClockTicked(utc("2026-03-06T21:00:01")), view, state)
    # Assert: per account, a critical alert, a close of each position held, a cancel of all its orders
    assert [fields(a) for a in actions] == [
        ("RaiseAlert", {"rule": "session_block_outside", "level": AlertLevel.CRITICAL, "account": "A1", "details": {}}),
        ("ClosePosition", {"rule": "session_block_outside", "account": "A1", "symbol": "MNQ"}),
        ("CancelAllOrders", {"rule": "session_block_outside", "account": "A1", "symbol": None}),
        ("RaiseAlert", {"rule": "session_block_outside", "level": AlertLevel.CRITICAL, "account": "A2", "details": {}}),
        ("ClosePosition", {"rule": "session_block_outside", "account": "A2", "symbol": "ES"}),
        ("CancelAllOrders", {"rule": "session_block_outside", "account": "A2", "symbol": None}),
        ("RaiseAlert", {"rule": "session_block_outside", "level": AlertLevel.CRITICAL, "account": "A3", "details": {}}),
        ("CancelAllOrders", {"rule": "session_block_outside", "account": "A3", "symbol": None}),
    ]
    assert actions[1].reason == (
        "the trading session ended at Fri 2026-03-06 16:00 America/New_York; A1 is flattened and its orders cancelled"
    )
    assert state == SessionState()
    assert (again, list(repeated)) == (SessionState(), [])
    assert sessions.next_deadline(view, state) is None


def test_react_when_first_event_after_end_is_late_then_it_flattens() -> None:
    # Arrange: no tick at 21:00 UTC; a mark at 22:00 UTC finds the session over
    sessions = rule()
    now = utc("2026-03-06T22:00:00")
    view = make_view(now, fills=[fill("f1", "buy", "1", "18000.00", utc("2026-03-06T15:00:00"))])
    # Act
    state, actions = sessions.react(MarkUpdated("MNQ", "18000.00", now), view, SessionState(utc("2026-03-06T21:00:00")))  # type: ignore[arg-type]
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders]
    assert state == SessionState()


def test_react_when_session_crosses_midnight_then_no_flatten_at_midnight() -> None:
    # Arrange: Sunday 18:00-24:00 + Monday 00:00-17:00; Monday 00:00 EDT = 2026-03-09 04:00 UTC
    sessions = rule(sessions={"sunday": ["18:00-24:00"], "monday": ["00:00-17:00"]})
    midnight = utc("2026-03-09T04:00:00")
    view = make_view(midnight, fills=[fill("f1", "buy", "1", "18000.00", utc("2026-03-08T23:00:00"))])
    first, _ = sessions.react(
        ClockTicked(utc("2026-03-08T23:00:00")), make_view(utc("2026-03-08T23:00:00")), SessionState()
    )
    # Act
    state, actions = sessions.react(ClockTicked(midnight), view, first)
    # Assert: the one session ends Monday 17:00 EDT = 21:00 UTC
    assert list(actions) == []
    assert state == SessionState(utc("2026-03-09T21:00:00"))


def test_react_when_flatten_at_session_end_off_then_never_acts() -> None:
    # Arrange
    sessions = rule(flatten_at_session_end=False)
    end = utc("2026-03-06T21:00:00")
    view = make_view(end, fills=[fill("f1", "buy", "1", "18000.00", utc("2026-03-06T15:00:00"))])
    # Act
    state, actions = sessions.react(ClockTicked(end), view, SessionState())
    # Assert
    assert (state, actions) == (SessionState(), ())
    assert sessions.next_deadline(view, state) is None


def test_react_when_order_approved_after_end_then_no_action_for_an_approval() -> None:
    # Arrange: an exit approved after the end must not trigger the flatten (approvals carry no actions)
    sessions = rule()
    now = utc("2026-03-06T21:30:00")
    view = make_view(now, fills=[fill("f1", "buy", "1", "18000.00", utc("2026-03-06T15:00:00"))])
    state = SessionState(utc("2026-03-06T21:00:00"))
    # Act
    after, actions = sessions.react(OrderApproved(order("sell", ts=now)), view, state)
    # Assert
    assert (after, actions) == (state, ())


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field_name"),
    [
        ({"sessions": {}}, "sessions"),
        ({"sessions": {"mon": ["09:30-16:00"]}}, "sessions"),
        ({"sessions": {"monday": ["18:00-17:00"]}}, "sessions.monday"),
        ({"sessions": {"monday": ["09:30-25:00"]}}, "sessions.monday"),
        ({"sessions": {"monday": ["9.30-16"]}}, "sessions.monday"),
        ({"sessions": {"monday": "09:30-16:00"}}, "sessions.monday"),
        ({"sessions": {"monday": []}}, "sessions"),
        ({"sessions": WEEKDAYS_0930_1600, "holidays": ["2026-13-01"]}, "holidays"),
        ({"sessions": WEEKDAYS_0930_1600, "holidays": "2026-12-25"}, "holidays"),
        ({"sessions": WEEKDAYS_0930_1600, "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_params_when_invalid_then_refused_naming_the_field(settings: dict[str, Any], field_name: str) -> None:
    # Act
    with pytest.raises(InvalidInput) as raised:
        SessionBlockOutside(SessionBlockOutsideParams(**settings))
    # Assert
    assert raised.value.field == field_name


def test_params_when_weekday_in_capitals_and_end_at_midnight_then_accepted() -> None:
    # Arrange / Act
    sessions = rule(sessions={"Sunday": ["18:00-24:00"]})
    # Assert: Sunday 2026-03-08 18:00 EDT = 22:00 UTC, to Monday 00:00 EDT = 04:00 UTC
    assert sessions.session_at(utc("2026-03-08T22:00:00")) == (utc("2026-03-08T22:00:00"), utc("2026-03-09T04:00:00"))


# -- through the engine -----------------------------------------------------------------------------


def test_engine_when_session_ends_then_flattens_and_refuses_entries_but_approves_the_exit() -> None:
    # Arrange: account known, long 2 MNQ during Friday's session
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account(ts=utc("2026-03-06T15:00:00")))
    engine.handle(fill("f1", "buy", "2", "18000.00", utc("2026-03-06T15:01:00")))
    inside = engine.check(order("buy", "1", order_id="o2", ts=utc("2026-03-06T15:02:00")))
    deadline = engine.next_deadline()
    # Act
    actions = engine.handle(ClockTicked(utc("2026-03-06T21:00:00")))
    entry = engine.check(order("buy", "1", order_id="o3", ts=utc("2026-03-06T21:00:00")))
    exit_ = engine.check(order("sell", "2", order_id="o4", ts=utc("2026-03-06T21:00:00")))
    # Assert: the deadline is Friday 16:00 EST = 21:00 UTC
    assert inside.approved
    assert deadline == utc("2026-03-06T21:00:00")
    assert [(a.name, a.id) for a in actions] == [
        ("alert", "3.1.session_block_outside.alert"),
        ("close_position", "3.2.session_block_outside.close_position"),
        ("cancel_all_orders", "3.3.session_block_outside.cancel_all_orders"),
    ]
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "outside_session", "session_block_outside")
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
    assert engine.next_deadline() is None
