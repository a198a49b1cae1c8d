"""MaxUnrealizedProfit: take the account's floating profit at the target, lock until the daily reset."""

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
from riskguard.core.rules.max_unrealized_profit import (
    MaxUnrealizedProfit,
    MaxUnrealizedProfitParams,
    UnrealizedProfitState,
)
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order

D = Decimal
RULE = "max_unrealized_profit"
LONG_MNQ = make_fill("f1", "buy", "2", "18000.00")  # long 2 MNQ at 18000, point value 2 USD
FRIDAY_RESET = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)  # 17:00 New York, EST (UTC-5)


def rule(target: str = "1000", on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK) -> MaxUnrealizedProfit:
    return MaxUnrealizedProfit(MaxUnrealizedProfitParams(target=D(target), on_breach=on_breach))


def marked(
    profit_rule: MaxUnrealizedProfit,
    price: str,
    *,
    now: datetime = T0,
    fills: tuple[Fill, ...] = (LONG_MNQ,),
    state: UnrealizedProfitState | None = None,
    symbol: str = "MNQ",
    other_marks: dict[str, str] | None = None,
) -> tuple[UnrealizedProfitState, list[Action]]:
    view = make_view(now, fills=fills, marks={**(other_marks or {}), symbol: price})
    new_state, actions = profit_rule.react(
        MarkUpdated(symbol, price, now),  # type: ignore[arg-type]
        view,
        profit_rule.initial_state() if state is None else state,
    )
    return new_state, list(actions)


def booked(view: AccountView, fill: Fill) -> FillBooked:
    return FillBooked(fill, view.ledger.apply(fill))


def seconds_to(when: datetime) -> int:
    return (when - T0) // timedelta(seconds=1)


# -- react -----------------------------------------------------------------------------------


def test_react_when_profit_just_below_target_then_nothing() -> None:
    # Arrange / Act: (18249.75 - 18000) x 2 contracts x 2 USD = 999.00 < 1000
    state, actions = marked(rule(), "18249.75")
    # Assert
    assert actions == []
    assert state.fired == {}


def test_react_when_profit_reaches_target_exactly_then_flatten_cancel_and_lock_until_reset() -> None:
    # Arrange / Act: (18250 - 18000) x 2 x 2 = 1000.00, the target: reaching it fires
    state, actions = marked(rule(), "18250.00")
    # Assert: locked until 17:00 New York on Friday 2026-03-06 = 22:00 UTC (EST)
    reason = (
        "Unrealized profit 1000.00 USD on A1 reached the 1000.00 USD target; positions are closed to take the "
        "profit, orders cancelled and new risk refused until 2026-03-06 17:00 America/New_York"
    )
    assert actions == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol="MNQ"),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol=None),
        LockOut(rule=RULE, reason=reason, scope=Scope(account="A1"), until=FRIDAY_RESET),
    ]
    assert state.fired == {"A1": date(2026, 3, 6)}


def test_react_when_profit_over_target_on_two_symbols_then_both_closed() -> None:
    # Arrange: MNQ (18200 - 18000) x 2 x 2 = +800; ES short 1 at 5000 marked 4995: +5 x 1 x 50 = +250
    fills = (LONG_MNQ, make_fill("e1", "sell", "1", "5000.00", symbol="ES"))
    # Act: 800 + 250 = 1050 >= 1000
    _, actions = marked(rule(), "18200.00", fills=fills, other_marks={"ES": "4995.00"})
    # Assert
    assert [(type(a).__name__, getattr(a, "symbol", None)) for a in actions] == [
        ("RaiseAlert", None),
        ("ClosePosition", "MNQ"),
        ("ClosePosition", "ES"),
        ("CancelAllOrders", None),
        ("LockOut", None),
    ]
    assert actions[0].reason.startswith("Unrealized profit 1050.00 USD on A1 reached the 1000.00 USD target")


def test_react_when_loss_on_one_symbol_offsets_profit_then_nothing() -> None:
    # Arrange: MNQ +1100 ((18275 - 18000) x 2 x 2), ES long 1 at 5000 marked 4996: -200
    fills = (LONG_MNQ, make_fill("e1", "buy", "1", "5000.00", symbol="ES"))
    # Act: 1100 - 200 = 900 < 1000
    _, actions = marked(rule(), "18275.00", fills=fills, other_marks={"ES": "4996.00"})
    # Assert
    assert actions == []


def test_react_when_fill_adds_in_profit_then_target_found_on_the_fill() -> None:
    # Arrange: long 2 at 18000 marked 18200 (+800); 1 more bought at 18000
    view = make_view(at(10), fills=[LONG_MNQ], marks={"MNQ": "18200.00"})
    event = booked(view, make_fill("f2", "buy", "1", "18000.00", seconds=10))
    # Act: 3 x (18200 - 18000) x 2 = 1200
    _, actions = rule().react(event, view, UnrealizedProfitState())
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert actions[0].reason.startswith("Unrealized profit 1200.00 USD on A1")


def test_react_when_already_reached_then_better_marks_and_partial_closes_fire_nothing() -> None:
    # Arrange
    profit_rule = rule()
    state, _ = marked(profit_rule, "18250.00")
    # Act: a better mark, then half of the close fills (long 1 left)
    state, better = marked(profit_rule, "18300.00", now=at(1), state=state)
    view = make_view(at(2), fills=[LONG_MNQ], marks={"MNQ": "18300.00"})
    state, partial = profit_rule.react(booked(view, make_fill("c1", "sell", "1", "18300.00", seconds=2)), view, state)
    # Assert
    assert better == []
    assert list(partial) == []
    assert state.fired == {"A1": date(2026, 3, 6)}


def test_react_when_flat_after_target_then_rearmed() -> None:
    # Arrange
    profit_rule = rule()
    state, _ = marked(profit_rule, "18250.00")
    view = make_view(at(2), fills=[LONG_MNQ], marks={"MNQ": "18250.00"})
    # Act: the close fills in full
    state, actions = profit_rule.react(booked(view, make_fill("c1", "sell", "2", "18250.00", seconds=2)), view, state)
    # Assert
    assert list(actions) == []
    assert state.fired == {}


def test_react_when_new_trading_day_and_still_over_target_then_fires_again() -> None:
    # Arrange: alert-only; reached on Friday's trading day, the position is still held
    profit_rule = rule(on_breach=Enforcement.ALERT)
    state, first = marked(profit_rule, "18250.00")
    # Act: Friday 17:30 New York belongs to the next trading day
    state, next_day = marked(profit_rule, "18260.00", now=datetime(2026, 3, 6, 22, 30, tzinfo=UTC), state=state)
    # Assert
    assert [type(a) for a in first] == [RaiseAlert]
    assert first[0].reason.endswith("target; no action is taken beyond this alert")
    assert [type(a) for a in next_day] == [RaiseAlert]
    assert state.fired == {"A1": date(2026, 3, 7)}


def test_react_when_a_position_has_no_mark_then_no_target_is_guessed() -> None:
    # Arrange: MNQ at +1200 but ES (held) has never been marked
    fills = (LONG_MNQ, make_fill("e1", "sell", "1", "5000.00", symbol="ES"))
    # Act
    _, actions = marked(rule(), "18300.00", fills=fills)
    # Assert
    assert actions == []


# -- gate ------------------------------------------------------------------------------------


def test_check_when_every_position_and_the_order_have_marks_then_allowed() -> None:
    # Arrange
    view = make_view(fills=[LONG_MNQ], marks={"MNQ": "18010.00"})
    # Act
    verdict = rule().check(order("buy", "1"), view, UnrealizedProfitState())
    # Assert
    assert verdict == ALLOW


def test_check_when_a_symbol_has_no_mark_then_price_unknown() -> None:
    # Arrange: ES held, unmarked; MNQ marked
    view = make_view(fills=[make_fill("e1", "buy", "1", "5000.00", symbol="ES")], marks={"MNQ": "18000.00"})
    # Act
    verdict = rule().check(order("buy", "1"), view, UnrealizedProfitState())
    # Assert
    assert verdict == Deny(
        RULE,
        "price_unknown",
        "no mark price for ES: the unrealized profit of A1 cannot be measured, so new risk is refused until a price arrives",
    )


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
def test_react_when_target_around_dst_change_then_lock_ends_at_local_reset(now: datetime, until: datetime) -> None:
    # Arrange
    fill = make_fill("f1", "buy", "2", "18000.00", seconds=seconds_to(now))
    # Act
    _, actions = marked(rule(), "18250.00", now=now, fills=(fill,))
    # Assert
    assert [a.until for a in actions if isinstance(a, LockOut)] == [until]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"target": D("0")}, "target"),
        ({"target": D("-1000")}, "target"),
        ({"target": D("1000"), "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_init_when_params_invalid_then_invalid_input(params: dict[str, object], field: str) -> None:
    # Act / Assert
    with pytest.raises(InvalidInput) as raised:
        MaxUnrealizedProfit(MaxUnrealizedProfitParams(**params))  # type: ignore[arg-type]
    assert raised.value.field == field


# -- through the engine ----------------------------------------------------------------------


def test_engine_when_target_reached_then_locked_until_reset_exit_approved_and_lock_ends_at_reset() -> None:
    # Arrange: the reset on Monday 2026-03-09 is 21:00 UTC (EDT), the lock set that morning ends then
    monday = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
    monday_reset = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account(ts=monday))
    engine.handle(MarkUpdated("MNQ", "18000.00", monday))  # type: ignore[arg-type]
    engine.handle(make_fill("f1", "buy", "2", "18000.00", seconds=seconds_to(monday)))
    # Act: +1000.00 at 18250
    actions = engine.handle(MarkUpdated("MNQ", "18250.00", monday + timedelta(minutes=5)))  # type: ignore[arg-type]
    entry = engine.check(order("buy", "1", order_id="o2", ts=monday + timedelta(minutes=6)))
    exit_ = engine.check(order("sell", "1", order_id="o3", ts=monday + timedelta(minutes=6)))
    before_reset = engine.check(order("buy", "1", order_id="o4", ts=monday_reset - timedelta(seconds=1)))
    ended = engine.handle(ClockTicked(monday_reset))
    after_reset = engine.check(order("buy", "1", order_id="o5", ts=monday_reset))
    # Assert
    plain = [replace(a, id="") for a in actions]
    assert [type(a) for a in plain] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert plain[3] == LockOut(rule=RULE, reason=plain[0].reason, scope=Scope(account="A1"), until=monday_reset)
    assert plain[0].reason.endswith("until 2026-03-09 17:00 America/New_York")
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "locked_out", RULE)
    assert exit_.approved
    assert not before_reset.approved
    assert [type(a) for a in ended] == [EndLockout]
    assert after_reset.approved


# -- headroom --------------------------------------------------------------------------------


def test_max_unrealized_profit_headroom_when_long_2_mnq_is_150_points_up_then_600_of_1000() -> None:
    # Arrange: long 2 MNQ at 18000.00 marked 18150.00: +150 x 2 contracts x 2 USD = 600.00 of 1000 (60 %)
    view = make_view(fills=[LONG_MNQ], marks={"MNQ": "18150.00"})
    # Act
    (row,) = rule().headroom(view, rule().initial_state())
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        RULE,
        "unrealized profit",
        Scope(account="A1"),
        D("600.00"),
        D(1000),
        "USD",
    )
    assert (row.used_pct, row.remaining) == (D("60.0"), D(400))


def test_max_unrealized_profit_headroom_when_the_position_is_at_a_loss_then_none_of_the_target_used() -> None:
    # Arrange: marked 17900.00: -100 x 2 x 2 = -400.00 against a 1000 target: 0 % used, 1400.00 to go
    view = make_view(fills=[LONG_MNQ], marks={"MNQ": "17900.00"})
    # Act
    (row,) = rule().headroom(view, rule().initial_state())
    # Assert
    assert (row.scope, row.value, row.limit, row.unit) == (Scope(account="A1"), D("-400.00"), D(1000), "USD")
    assert (row.used_pct, row.remaining) == (D("0.0"), D(1400))
