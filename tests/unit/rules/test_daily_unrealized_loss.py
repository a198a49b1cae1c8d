"""DailyUnrealizedLoss: the account's floating loss at marks, flatten and lock until the daily reset."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from riskguard.core import (
    ALLOW,
    AccountView,
    Action,
    AlertLevel,
    CancelAllOrders,
    ClockTicked,
    ClosePosition,
    Deny,
    EndLockout,
    Enforcement,
    Fill,
    FillBooked,
    InvalidInput,
    LockOut,
    MarkUpdated,
    RaiseAlert,
    RiskEngine,
    Scope,
)
from riskguard.core.rules.daily_unrealized_loss import (
    DailyUnrealizedLoss,
    DailyUnrealizedLossParams,
    UnrealizedLossState,
)
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order

D = Decimal
RULE = "daily_unrealized_loss"
LONG_MNQ = make_fill("f1", "buy", "2", "18000.00")  # long 2 MNQ at 18000, point value 2 USD
FRIDAY_RESET = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)  # 17:00 New York, EST (UTC-5)


def rule(limit: str = "-300", on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK) -> DailyUnrealizedLoss:
    return DailyUnrealizedLoss(DailyUnrealizedLossParams(limit=D(limit), on_breach=on_breach))


def marked(
    loss_rule: DailyUnrealizedLoss,
    price: str,
    *,
    now: datetime = T0,
    fills: tuple[Fill, ...] = (LONG_MNQ,),
    state: UnrealizedLossState | None = None,
    symbol: str = "MNQ",
    other_marks: dict[str, str] | None = None,
) -> tuple[UnrealizedLossState, list[Action]]:
    view = make_view(now, fills=fills, marks={**(other_marks or {}), symbol: price})
    new_state, actions = loss_rule.react(
        MarkUpdated(symbol, price, now),  # type: ignore[arg-type]
        view,
        loss_rule.initial_state() if state is None else state,
    )
    return new_state, list(actions)


def booked(view: AccountView, fill: Fill) -> FillBooked:
    return FillBooked(fill, view.ledger.apply(fill))


def seconds_to(when: datetime) -> int:
    return (when - T0) // timedelta(seconds=1)


# -- react -----------------------------------------------------------------------------------


def test_react_when_loss_just_below_limit_then_nothing() -> None:
    # Arrange / Act: (17925.25 - 18000) x 2 contracts x 2 USD = -299.00 > -300
    state, actions = marked(rule(), "17925.25")
    # Assert
    assert actions == []
    assert state.fired == {}


def test_react_when_loss_reaches_limit_exactly_then_flatten_cancel_and_lock_until_reset() -> None:
    # Arrange / Act: (17925 - 18000) x 2 x 2 = -300.00, the limit: reaching it fires
    state, actions = marked(rule(), "17925.00")
    # Assert: locked until 17:00 New York on Friday 2026-03-06 = 22:00 UTC (EST)
    reason = (
        "Unrealized loss -300.00 USD on A1 reached the -300.00 USD limit; positions are closed, "
        "orders cancelled and new risk refused until 2026-03-06 17:00 America/New_York"
    )
    assert actions == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol="MNQ"),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol=None),
        LockOut(rule=RULE, reason=reason, scope=Scope(account="A1"), until=FRIDAY_RESET),
    ]
    assert state.fired == {"A1": date(2026, 3, 6)}


def test_react_when_loss_over_limit_on_two_symbols_then_both_closed() -> None:
    # Arrange: MNQ (17950 - 18000) x 2 x 2 = -200; ES short 1 at 5000 marked 5003: -3 x 1 x 50 = -150
    fills = (LONG_MNQ, make_fill("e1", "sell", "1", "5000.00", symbol="ES"))
    # Act: -200 + -150 = -350 <= -300
    _, actions = marked(rule(), "17950.00", fills=fills, other_marks={"ES": "5003.00"})
    # Assert
    assert [(type(a).__name__, getattr(a, "symbol", None)) for a in actions] == [
        ("RaiseAlert", None),
        ("ClosePosition", "MNQ"),
        ("ClosePosition", "ES"),
        ("CancelAllOrders", None),
        ("LockOut", None),
    ]
    assert actions[0].reason.startswith("Unrealized loss -350.00 USD on A1 reached the -300.00 USD limit")


def test_react_when_profit_on_one_symbol_offsets_loss_then_nothing() -> None:
    # Arrange: MNQ -350 ((17912.50 - 18000) x 2 x 2), ES long 1 at 5000 marked 5002: +100
    fills = (LONG_MNQ, make_fill("e1", "buy", "1", "5000.00", symbol="ES"))
    # Act: -350 + 100 = -250 > -300
    _, actions = marked(rule(), "17912.50", fills=fills, other_marks={"ES": "5002.00"})
    # Assert
    assert actions == []


def test_react_when_limit_written_positive_then_same_as_negative() -> None:
    # Arrange / Act: 300 is a loss of 300 as well
    _, actions = marked(rule(limit="300"), "17925.00")
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]


def test_react_when_fill_adds_at_loss_then_breach_found_on_the_fill() -> None:
    # Arrange: long 2 at 18000 marked 17950 (-200); 2 more bought at 18000
    view = make_view(at(10), fills=[LONG_MNQ], marks={"MNQ": "17950.00"})
    event = booked(view, make_fill("f2", "buy", "2", "18000.00", seconds=10))
    # Act: 4 x (17950 - 18000) x 2 = -400
    _, actions = rule().react(event, view, UnrealizedLossState())
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert actions[0].reason.startswith("Unrealized loss -400.00 USD on A1")


def test_react_when_already_breached_then_worse_marks_and_partial_closes_fire_nothing() -> None:
    # Arrange
    loss_rule = rule()
    state, _ = marked(loss_rule, "17925.00")
    # Act: a worse mark, then the first half of the close fills (long 1 left)
    state, worse = marked(loss_rule, "17900.00", now=at(1), state=state)
    view = make_view(at(2), fills=[LONG_MNQ], marks={"MNQ": "17900.00"})
    state, partial = loss_rule.react(booked(view, make_fill("c1", "sell", "1", "17900.00", seconds=2)), view, state)
    # Assert
    assert worse == []
    assert list(partial) == []
    assert state.fired == {"A1": date(2026, 3, 6)}


def test_react_when_flat_after_breach_then_rearmed_and_new_position_breaching_fires_again() -> None:
    # Arrange: breach, then the close fills in full (flat)
    loss_rule = rule()
    state, _ = marked(loss_rule, "17925.00")
    view = make_view(at(2), fills=[LONG_MNQ], marks={"MNQ": "17925.00"})
    state, on_close = loss_rule.react(booked(view, make_fill("c1", "sell", "2", "17925.00", seconds=2)), view, state)
    # Act: a new long 2 at 17925 (opened at the venue) loses 300 again: (17850 - 17925) x 2 x 2
    new_long = make_fill("f3", "buy", "2", "17925.00", seconds=3)
    fills = (LONG_MNQ, make_fill("c1", "sell", "2", "17925.00", seconds=2), new_long)
    state_after_flat = state
    state, again = marked(loss_rule, "17850.00", now=at(4), fills=fills, state=state)
    # Assert
    assert list(on_close) == []
    assert state_after_flat.fired == {}
    assert [type(a) for a in again] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]


def test_react_when_new_trading_day_and_still_past_limit_then_fires_again() -> None:
    # Arrange: alert-only, breached on Friday's trading day; the position is still held
    loss_rule = rule(on_breach=Enforcement.ALERT)
    state, first = marked(loss_rule, "17925.00")
    # Act: Friday 17:30 New York belongs to the next trading day
    state, next_day = marked(loss_rule, "17920.00", now=datetime(2026, 3, 6, 22, 30, tzinfo=UTC), state=state)
    # Assert
    assert [type(a) for a in first] == [RaiseAlert]
    assert first[0].reason.endswith("limit; no action is taken beyond this alert")
    assert [type(a) for a in next_day] == [RaiseAlert]
    assert state.fired == {"A1": date(2026, 3, 7)}


def test_react_when_mark_moves_other_accounts_symbol_then_only_holders_checked() -> None:
    # Arrange: A2 is long 2 ES; A1 long 2 MNQ; an MNQ mark only concerns A1
    fills = (LONG_MNQ, make_fill("e1", "buy", "2", "5000.00", symbol="ES", account="A2"))
    # Act
    _, actions = marked(rule(), "17925.00", fills=fills, other_marks={"ES": "4900.00"})
    # Assert: A2's ES loss (-100 x 2 x 50 = -10000) is not looked at on an MNQ mark
    assert [a.scope.account if isinstance(a, LockOut) else getattr(a, "account", None) for a in actions] == ["A1"] * 4


def test_react_when_a_position_has_no_mark_then_no_breach_is_guessed() -> None:
    # Arrange: MNQ at -400 but ES (held) has never been marked: the total is unknown
    fills = (LONG_MNQ, make_fill("e1", "buy", "1", "5000.00", symbol="ES"))
    # Act
    _, actions = marked(rule(), "17900.00", fills=fills)
    # Assert: the gate refuses new risk instead (see below)
    assert actions == []


# -- gate ------------------------------------------------------------------------------------


def test_check_when_every_position_and_the_order_have_marks_then_allowed() -> None:
    # Arrange
    view = make_view(fills=[LONG_MNQ], marks={"MNQ": "17990.00"})
    # Act
    verdict = rule().check(order("buy", "1"), view, UnrealizedLossState())
    # Assert
    assert verdict == ALLOW


def test_check_when_held_symbol_has_no_mark_then_price_unknown() -> None:
    # Arrange: ES held, unmarked; the order is for MNQ, which is marked
    view = make_view(fills=[make_fill("e1", "buy", "1", "5000.00", symbol="ES")], marks={"MNQ": "18000.00"})
    # Act
    verdict = rule().check(order("buy", "1"), view, UnrealizedLossState())
    # Assert
    assert verdict == Deny(
        RULE,
        "price_unknown",
        "no mark price for ES: the unrealized loss of A1 cannot be measured, so new risk is refused until a price arrives",
    )


def test_check_when_order_symbol_has_no_mark_then_price_unknown() -> None:
    # Arrange: flat account, no MNQ mark: the position the order opens could not be watched
    view = make_view()
    # Act
    verdict = rule().check(order("buy", "1"), view, UnrealizedLossState())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "price_unknown"
    assert verdict.message.startswith("no mark price for MNQ:")


# -- the daily reset, across DST -------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # Friday 2026-03-06, EST (UTC-5): 17:00 New York = 22:00 UTC
        (datetime(2026, 3, 6, 14, 30, tzinfo=UTC), datetime(2026, 3, 6, 22, 0, tzinfo=UTC)),
        # Monday 2026-03-09, after the spring-forward of 2026-03-08, EDT (UTC-4): 21:00 UTC
        (datetime(2026, 3, 9, 14, 30, tzinfo=UTC), datetime(2026, 3, 9, 21, 0, tzinfo=UTC)),
        # Friday 2026-10-30, still EDT: 21:00 UTC
        (datetime(2026, 10, 30, 14, 30, tzinfo=UTC), datetime(2026, 10, 30, 21, 0, tzinfo=UTC)),
        # Monday 2026-11-02, after the fall-back of 2026-11-01, EST: 22:00 UTC
        (datetime(2026, 11, 2, 14, 30, tzinfo=UTC), datetime(2026, 11, 2, 22, 0, tzinfo=UTC)),
    ],
)
def test_react_when_breach_around_dst_change_then_lock_ends_at_local_reset(now: datetime, until: datetime) -> None:
    # Arrange
    fill = make_fill("f1", "buy", "2", "18000.00", seconds=seconds_to(now))
    # Act
    _, actions = marked(rule(), "17925.00", now=now, fills=(fill,))
    # Assert
    lockouts = [a for a in actions if isinstance(a, LockOut)]
    assert [lockout.until for lockout in lockouts] == [until]
    assert lockouts[0].reason.endswith(
        f"until {until.astimezone(rule().schedule.timezone):%Y-%m-%d} 17:00 America/New_York"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": D("0")}, "limit"),
        ({"limit": D("-300"), "timezone": "Mars/Olympus"}, "timezone"),
        ({"limit": D("-300"), "reset_time": "5pm"}, "reset_time"),
    ],
)
def test_init_when_params_invalid_then_invalid_input(params: dict[str, object], field: str) -> None:
    # Act / Assert
    with pytest.raises(InvalidInput) as raised:
        DailyUnrealizedLoss(DailyUnrealizedLossParams(**params))  # type: ignore[arg-type]
    assert raised.value.field == field


# -- through the engine ----------------------------------------------------------------------


def test_engine_when_mark_breaches_then_locked_until_reset_exit_approved_and_lock_ends_at_reset() -> None:
    # Arrange
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(MarkUpdated("MNQ", "18000.00", T0))  # type: ignore[arg-type]
    engine.handle(LONG_MNQ)
    # Act: -300.00 at 17925
    actions = engine.handle(MarkUpdated("MNQ", "17925.00", at(60)))  # type: ignore[arg-type]
    entry = engine.check(order("buy", "1", order_id="o2", ts=at(61)))
    exit_ = engine.check(order("sell", "2", order_id="o3", ts=at(61)))
    ended = engine.handle(ClockTicked(FRIDAY_RESET))
    after_reset = engine.check(order("buy", "1", order_id="o4", ts=FRIDAY_RESET))
    # Assert
    plain = [replace(a, id="") for a in actions]
    assert [type(a) for a in plain] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert plain[3] == LockOut(rule=RULE, reason=plain[0].reason, scope=Scope(account="A1"), until=FRIDAY_RESET)
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "locked_out", RULE)
    assert entry.message == plain[0].reason
    assert exit_.approved
    assert [type(a) for a in ended] == [EndLockout]
    assert after_reset.approved


# -- headroom --------------------------------------------------------------------------------


def test_daily_unrealized_loss_headroom_when_long_2_mnq_is_50_points_down_then_minus_200_of_minus_300() -> None:
    # Arrange: long 2 MNQ at 18000.00 marked 17950.00: -50 x 2 contracts x 2 USD = -200.00 of -300 (66.66… → 66.7 %)
    view = make_view(fills=[LONG_MNQ], marks={"MNQ": "17950.00"})
    # Act
    (row,) = rule().headroom(view, rule().initial_state())
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        RULE,
        "unrealized loss",
        Scope(account="A1"),
        D("-200.00"),
        D(-300),
        "USD",
    )
    assert (row.used_pct, row.remaining) == (D("66.7"), D(-100))


def test_daily_unrealized_loss_headroom_when_a1_has_no_mark_and_a2_is_flat_then_only_a2_at_zero() -> None:
    # Arrange: A1's long MNQ has no mark (its loss cannot be measured); A2 holds nothing: 0 of -300 USD, 0 %
    view = make_view(fills=[LONG_MNQ], accounts=[account("A1"), account("A2")])
    # Act
    rows = rule().headroom(view, rule().initial_state())
    # Assert
    assert [(r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        (Scope(account="A2"), D(0), D(-300), "USD", D("0.0"))
    ]
