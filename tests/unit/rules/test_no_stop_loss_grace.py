"""NoStopLossGrace: an open position needs a working protective stop within the grace period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

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
    Enforcement,
    Fill,
    FillBooked,
    InvalidInput,
    LockOut,
    OrderUpdated,
    RaiseAlert,
    RiskEngine,
    Scope,
)
from riskguard.core.rules.no_stop_loss_grace import (
    NoStopLossGrace,
    NoStopLossGraceParams,
    NoStopLossState,
    Unprotected,
)
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order, working

RULE = "no_stop_loss_grace"
ENTRY = make_fill("f1", "buy", "2", "18000.00")  # long 2 MNQ at T0


def rule(**params: object) -> NoStopLossGrace:
    return NoStopLossGrace(NoStopLossGraceParams(**params))  # type: ignore[arg-type]


def opened(grace_rule: NoStopLossGrace) -> NoStopLossState:
    """The state after ENTRY was booked at T0 with no stop working."""
    view = make_view(T0)
    state, actions = grace_rule.react(FillBooked(ENTRY, view.ledger.apply(ENTRY)), view, grace_rule.initial_state())
    assert list(actions) == []
    return state


def tick(
    grace_rule: NoStopLossGrace,
    state: NoStopLossState,
    now: datetime,
    *,
    fills: Sequence[Fill] = (ENTRY,),
    orders: Sequence[OrderUpdated] = (),
) -> tuple[NoStopLossState, Sequence[Action]]:
    return grace_rule.react(ClockTicked(now), make_view(now, fills=fills, orders=orders), state)


def booked(view: AccountView, fill: Fill) -> FillBooked:
    return FillBooked(fill, view.ledger.apply(fill))


def breach(reason: str, *, symbol: str = "MNQ") -> list[Action]:
    return [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol=symbol),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol=symbol),
    ]


# -- the timer -------------------------------------------------------------------------------


def test_react_when_position_opens_without_stop_then_timer_starts_and_deadline_is_grace_end() -> None:
    # Arrange
    grace_rule = rule()
    # Act
    state = opened(grace_rule)
    # Assert: T0 + 30 s
    assert state.unprotected == {("A1", "MNQ"): Unprotected(T0)}
    assert grace_rule.next_deadline(make_view(T0), state) == at(30)


def test_react_when_tick_before_grace_end_then_nothing() -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    # Act: 29 s < 30 s
    state, actions = tick(grace_rule, state, at(29))
    # Assert
    assert list(actions) == []
    assert state.unprotected == {("A1", "MNQ"): Unprotected(T0)}


def test_react_when_tick_at_grace_end_exactly_then_position_closed() -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    # Act: at T0 + 30 s exactly the grace has ended
    state, actions = tick(grace_rule, state, at(30))
    # Assert
    assert list(actions) == breach(
        "A1 has held long 2 MNQ without a working stop order for 30 s, past the 30 s grace; "
        "closing the MNQ position and cancelling its orders"
    )
    assert state.unprotected == {("A1", "MNQ"): Unprotected(T0, breached=True)}
    assert grace_rule.next_deadline(make_view(at(30)), state) is None


def test_react_when_tick_comes_late_after_grace_then_closed_and_elapsed_time_said() -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    # Act: 45 s elapsed
    _, actions = tick(grace_rule, state, at(45))
    # Assert
    assert list(actions) == breach(
        "A1 has held long 2 MNQ without a working stop order for 45 s, past the 30 s grace; "
        "closing the MNQ position and cancelling its orders"
    )


def test_react_when_breached_then_later_ticks_and_own_close_fills_fire_nothing_more() -> None:
    # Arrange
    grace_rule = rule()
    state, _ = tick(grace_rule, opened(grace_rule), at(30))
    # Act: another tick, then a partial close fill (still long 1)
    state, later_tick = tick(grace_rule, state, at(60))
    view = make_view(at(61), fills=[ENTRY])
    state, partial = grace_rule.react(booked(view, make_fill("c1", "sell", "1", "18000.00", seconds=61)), view, state)
    # Assert
    assert list(later_tick) == []
    assert list(partial) == []
    assert state.unprotected == {("A1", "MNQ"): Unprotected(T0, breached=True)}


def test_react_when_position_flat_after_breach_then_timer_forgotten() -> None:
    # Arrange
    grace_rule = rule()
    state, _ = tick(grace_rule, opened(grace_rule), at(30))
    view = make_view(at(31), fills=[ENTRY])
    # Act: the close fills in full
    state, actions = grace_rule.react(booked(view, make_fill("c1", "sell", "2", "18000.00", seconds=31)), view, state)
    # Assert
    assert list(actions) == []
    assert state.unprotected == {}


def test_react_when_stop_appears_in_time_then_timer_cleared_and_no_close() -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    stop = working("stop1", "sell", "2", stop_price="17990.00", ts=at(10))
    view = make_view(at(10), fills=[ENTRY], orders=[stop])
    # Act
    state, on_stop = grace_rule.react(stop, view, state)
    state, on_tick = tick(grace_rule, state, at(30), orders=[stop])
    # Assert
    assert list(on_stop) == []
    assert list(on_tick) == []
    assert state.unprotected == {}
    assert grace_rule.next_deadline(view, state) is None


def test_react_when_stop_limit_protects_then_counts_as_stop() -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    stop = working("stop1", "sell", "2", order_type="stop_limit", stop_price="17990.00", price="17985.00")
    # Act
    state, actions = tick(grace_rule, state, at(30), orders=[stop])
    # Assert
    assert list(actions) == []
    assert state.unprotected == {}


@pytest.mark.parametrize(
    "unprotecting",
    [
        working("stop1", "buy", "2", stop_price="18010.00"),  # a stop on the opening side adds, it does not protect
        working("lim1", "sell", "2", order_type="limit", stop_price=None, price="18010.00"),  # a target, not a stop
        working("stop1", "sell", "2", symbol="ES", stop_price="4990.00"),  # another symbol
    ],
)
def test_react_when_only_non_protective_orders_work_then_still_closed(unprotecting: OrderUpdated) -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    # Act
    _, actions = tick(grace_rule, state, at(30), orders=[unprotecting])
    # Assert
    assert [type(action) for action in actions] == [RaiseAlert, ClosePosition, CancelAllOrders]


def test_react_when_stop_cancelled_then_timer_restarts_at_cancellation() -> None:
    # Arrange: protected at T0, the stop is cancelled at +100 s
    grace_rule = rule()
    stop = working("stop1", "sell", "2")
    view = make_view(T0, orders=[stop])
    state, _ = grace_rule.react(booked(view, ENTRY), view, grace_rule.initial_state())
    cancelled = working("stop1", "sell", "2", status="cancelled", ts=at(100))
    # Act
    state, actions = grace_rule.react(cancelled, make_view(at(100), fills=[ENTRY], orders=[stop, cancelled]), state)
    # Assert: the grace runs from the cancellation: T0 + 100 s + 30 s
    assert list(actions) == []
    assert state.unprotected == {("A1", "MNQ"): Unprotected(at(100))}
    assert grace_rule.next_deadline(make_view(at(100)), state) == at(130)


def test_react_when_short_position_then_buy_stop_protects() -> None:
    # Arrange
    grace_rule = rule()
    short = make_fill("f1", "sell", "1", "18000.00")
    view = make_view(T0, orders=[working("stop1", "buy", "1", stop_price="18010.00")])
    # Act
    state, actions = grace_rule.react(booked(view, short), view, grace_rule.initial_state())
    # Assert
    assert list(actions) == []
    assert state.unprotected == {}


def test_react_when_position_closed_in_time_then_timer_cleared() -> None:
    # Arrange
    grace_rule = rule()
    state = opened(grace_rule)
    view = make_view(at(20), fills=[ENTRY])
    # Act
    state, actions = grace_rule.react(booked(view, make_fill("c1", "sell", "2", "18000.00", seconds=20)), view, state)
    # Assert
    assert list(actions) == []
    assert state.unprotected == {}


def test_next_deadline_when_several_positions_unprotected_then_earliest_grace_end() -> None:
    # Arrange: MNQ unprotected since T0, ES since T0 + 10 s
    grace_rule = rule()
    state = opened(grace_rule)
    es = make_fill("e1", "buy", "1", "5000.00", symbol="ES", seconds=10)
    view = make_view(at(10), fills=[ENTRY])
    state, _ = grace_rule.react(booked(view, es), view, state)
    # Act
    deadline = grace_rule.next_deadline(view, state)
    # Assert: min(T0 + 30 s, T0 + 40 s)
    assert deadline == at(30)
    assert list(state.unprotected) == [("A1", "MNQ"), ("A1", "ES")]


def test_react_when_tick_finds_position_never_seen_then_timer_starts_at_tick() -> None:
    # Arrange: a position in the ledger the rule has no timer for (e.g. enabled mid-session)
    grace_rule = rule()
    # Act
    state, actions = tick(grace_rule, grace_rule.initial_state(), at(5))
    # Assert
    assert list(actions) == []
    assert state.unprotected == {("A1", "MNQ"): Unprotected(at(5))}


def test_react_when_grace_is_zero_then_unprotected_fill_closed_at_once() -> None:
    # Arrange
    grace_rule = rule(grace_seconds=0)
    view = make_view(T0)
    # Act
    _, actions = grace_rule.react(booked(view, ENTRY), view, grace_rule.initial_state())
    # Assert
    assert list(actions) == breach(
        "A1 has held long 2 MNQ without a working stop order for 0 s, past the 0 s grace; "
        "closing the MNQ position and cancelling its orders"
    )


def test_react_when_on_breach_flatten_and_lock_then_account_locked_until_reset_by_operator() -> None:
    # Arrange
    grace_rule = rule(on_breach=Enforcement.FLATTEN_AND_LOCK)
    # Act
    _, actions = tick(grace_rule, opened(grace_rule), at(30))
    # Assert
    reason = (
        "A1 has held long 2 MNQ without a working stop order for 30 s, past the 30 s grace; closing the MNQ "
        "position, cancelling its orders and refusing new risk until an operator resets it"
    )
    assert list(actions) == [
        *breach(reason),
        LockOut(rule=RULE, reason=reason, scope=Scope(account="A1"), until=None),
    ]


def test_react_when_on_breach_alert_then_only_alert() -> None:
    # Arrange
    grace_rule = rule(on_breach=Enforcement.ALERT)
    # Act
    _, actions = tick(grace_rule, opened(grace_rule), at(30))
    # Assert
    assert [type(action) for action in actions] == [RaiseAlert]
    assert actions[0].reason.endswith("past the 30 s grace; no action is taken beyond this alert")


@pytest.mark.parametrize("grace", [-1, True])
def test_init_when_grace_negative_or_not_int_then_invalid(grace: object) -> None:
    # Act / Assert
    with pytest.raises(InvalidInput) as raised:
        rule(grace_seconds=grace)
    assert raised.value.field == "grace_seconds"


# -- gate ------------------------------------------------------------------------------------


def test_check_when_stop_not_required_then_entry_without_stop_allowed() -> None:
    # Act
    verdict = rule().check(order("buy", "1"), make_view(), NoStopLossState())
    # Assert
    assert verdict == ALLOW


def test_check_when_stop_required_and_missing_then_denied() -> None:
    # Act
    verdict = rule(require_stop_on_entry=True).check(order("buy", "1"), make_view(), NoStopLossState())
    # Assert
    assert verdict == Deny(
        RULE,
        "stop_loss_required",
        "an order that opens or adds to a position in MNQ must carry a stop loss; attach one (stop_loss) and send it again",
    )


def test_check_when_stop_required_and_attached_then_allowed() -> None:
    # Act
    verdict = rule(require_stop_on_entry=True).check(
        order("buy", "1", stop_loss="17990.00"), make_view(), NoStopLossState()
    )
    # Assert
    assert verdict == ALLOW


# -- through the engine ----------------------------------------------------------------------


def test_engine_when_grace_runs_out_then_tick_at_deadline_closes_and_exit_still_approved() -> None:
    # Arrange
    engine = RiskEngine([rule(require_stop_on_entry=True)], INSTRUMENTS)
    engine.handle(account())
    engine.handle(ENTRY)
    deadline = engine.next_deadline()
    # Act
    actions = engine.handle(ClockTicked(at(30)))
    entry = engine.check(order("buy", "1", order_id="o2", ts=at(31)))
    exit_ = engine.check(order("sell", "2", order_id="o3", ts=at(31)))
    # Assert
    assert deadline == at(30)
    assert [(a.name, getattr(a, "symbol", None)) for a in actions] == [
        ("alert", None),
        ("close_position", "MNQ"),
        ("cancel_all_orders", "MNQ"),
    ]
    assert [replace(a, id="") for a in actions] == breach(actions[0].reason)
    assert actions[1].id == "3.2.no_stop_loss_grace.close_position"
    assert (entry.approved, entry.reason_code) == (False, "stop_loss_required")
    assert exit_.approved
    assert engine.next_deadline() is None


def test_engine_when_stop_reported_in_time_then_tick_closes_nothing() -> None:
    # Arrange
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(ENTRY)
    engine.handle(working("stop1", "sell", "2", ts=at(5)))
    # Act
    actions = engine.handle(ClockTicked(at(30)))
    # Assert
    assert actions == []
    assert engine.next_deadline() is None


# -- headroom --------------------------------------------------------------------------------


def test_no_stop_loss_grace_headroom_when_unprotected_for_12_s_of_30_then_40_pct_used() -> None:
    # Arrange: long 2 MNQ since T0 with no stop; read at +12.5 s: 12 whole seconds of 30 = 40 %
    grace_rule = rule()
    state = opened(grace_rule)
    # Act
    (row,) = grace_rule.headroom(make_view(at(12.5), fills=[ENTRY]), state)
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        RULE,
        "seconds without a stop",
        Scope(account="A1", symbol="MNQ"),
        D(12),
        D(30),
        "s",
    )
    assert (row.used_pct, row.remaining) == (D("40.0"), D(18))


def test_no_stop_loss_grace_headroom_when_a_stop_is_working_then_no_row() -> None:
    # Arrange: the timer started at T0, and a sell stop for the 2 MNQ is working now
    grace_rule = rule()
    state = opened(grace_rule)
    view = make_view(at(12), fills=[ENTRY], orders=[working("stop1", "sell", "2")])
    # Act
    rows = grace_rule.headroom(view, state)
    # Assert
    assert rows == []
