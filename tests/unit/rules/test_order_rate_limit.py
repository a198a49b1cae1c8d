"""OrderRateLimit: approved orders per account and symbol in a sliding minute."""

from __future__ import annotations

from datetime import datetime

import pytest

from riskguard.core import ALLOW, Deny, InvalidInput, OrderApproved, OrderRequest, RiskEngine, Scope
from riskguard.core.rules.order_rate_limit import OrderRateLimit, OrderRateLimitParams, OrderRateState
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order


def rule(max_orders_per_minute: int = 10) -> OrderRateLimit:
    return OrderRateLimit(OrderRateLimitParams(max_orders_per_minute=max_orders_per_minute))


def approve(the_rule: OrderRateLimit, state: OrderRateState, request: OrderRequest, now: datetime) -> OrderRateState:
    """Feed one approval the way the engine does; it must never produce actions."""
    new_state, actions = the_rule.react(OrderApproved(request), make_view(now), state)
    assert list(actions) == []
    return new_state


def approvals(
    the_rule: OrderRateLimit, seconds: list[float], *, symbol: str = "MNQ", price: str = "18000.00"
) -> OrderRateState:
    state = the_rule.initial_state()
    for i, second in enumerate(seconds):
        state = approve(the_rule, state, order(order_id=f"o{i}", ts=at(second), symbol=symbol, price=price), at(second))
    return state


def test_params_when_defaults_then_seed_004s_ten_a_minute() -> None:
    # Arrange / Act / Assert
    assert OrderRateLimitParams().max_orders_per_minute == 10


@pytest.mark.parametrize("value", [0, True])
def test_params_when_not_a_positive_count_then_the_rule_refuses_to_build(value: int) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="max_orders_per_minute"):
        rule(value)


@pytest.mark.parametrize(("approved", "allowed"), [(8, True), (9, True), (10, False)])
def test_check_when_approvals_in_the_minute_are_around_the_limit_then_only_the_eleventh_is_denied(
    approved: int, allowed: bool
) -> None:
    # Arrange: `approved` orders at T0, T0+1 s, ...; the check at T0+30 s
    the_rule = rule()
    state = approvals(the_rule, [float(i) for i in range(approved)])
    # Act
    verdict = the_rule.check(order(ts=at(30)), make_view(at(30)), state)
    # Assert: this order would be number approved + 1; 10 is allowed, 11 is not
    assert (verdict == ALLOW) is allowed


def test_check_when_the_limit_is_used_up_then_denies_with_the_time_it_frees() -> None:
    # Arrange: 10 approvals at T0 .. T0+9 s
    the_rule = rule()
    state = approvals(the_rule, [float(i) for i in range(10)])
    # Act
    verdict = the_rule.check(order(ts=at(30)), make_view(at(30)), state)
    # Assert: the oldest (T0 = 14:30:00) leaves the window at 14:31:00
    assert verdict == Deny(
        "order_rate_limit",
        "order_rate_limit",
        "10 MNQ orders of A1 were approved in the last 60 s, the limit of 10 per minute; "
        "the next one is accepted from 2026-03-06 14:31:00 UTC",
    )


def test_check_when_the_oldest_approval_is_a_fraction_of_a_second_then_the_time_is_rounded_up() -> None:
    # Arrange: 2 approvals, the older at T0 + 0.25 s
    the_rule = rule(2)
    state = approvals(the_rule, [0.25, 1.0])
    # Act
    verdict = the_rule.check(order(ts=at(2)), make_view(at(2)), state)
    # Assert: frees at 14:31:00.25 -> shown as 14:31:01, never earlier than true
    assert isinstance(verdict, Deny)
    assert verdict.message.endswith("accepted from 2026-03-06 14:31:01 UTC")


@pytest.mark.parametrize(("now", "allowed"), [(59.999, False), (60.0, True)])
def test_check_when_the_oldest_approval_is_exactly_a_minute_old_then_it_has_left_the_window(
    now: float, allowed: bool
) -> None:
    # Arrange: 2 approvals at T0 and T0+1 s, limit 2; the window at now is (now - 60 s, now]
    the_rule = rule(2)
    state = approvals(the_rule, [0.0, 1.0])
    # Act
    verdict = the_rule.check(order(ts=at(now)), make_view(at(now)), state)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_approvals_are_for_another_symbol_or_account_then_they_do_not_count() -> None:
    # Arrange: limit 1, one ES approval of A1 and one MNQ approval of A2
    the_rule = rule(1)
    state = approvals(the_rule, [0.0], symbol="ES", price="5000.00")
    state = approve(the_rule, state, order(account_id="A2"), at(0))
    # Act / Assert: A1's first MNQ order
    assert the_rule.check(order(ts=at(1)), make_view(at(1)), state) == ALLOW


def test_react_when_many_approvals_then_state_keeps_only_the_latest_limit_in_the_window() -> None:
    # Arrange / Act: 25 approvals in 25 s with a limit of 3 (exits are approved past the gate)
    the_rule = rule(3)
    state = approvals(the_rule, [float(i) for i in range(25)])
    # Assert
    assert state.approvals == {("A1", "MNQ"): (at(22), at(23), at(24))}


def test_react_when_another_key_has_left_the_window_then_it_is_dropped() -> None:
    # Arrange: an ES approval at T0
    the_rule = rule()
    state = approvals(the_rule, [0.0], symbol="ES", price="5000.00")
    # Act: an MNQ approval 60 s later
    state = approve(the_rule, state, order(ts=at(60)), at(60))
    # Assert
    assert state.approvals == {("A1", "MNQ"): (at(60),)}


def test_react_when_not_an_approval_then_state_is_unchanged() -> None:
    # Arrange
    the_rule = rule()
    state = approvals(the_rule, [0.0])
    # Act
    new_state, actions = the_rule.react(account(), make_view(at(1)), state)
    # Assert
    assert (new_state, list(actions)) == (state, [])


def test_engine_when_rate_is_used_up_then_entries_are_refused_exits_pass_and_count() -> None:
    # Arrange: limit 2; long 1 MNQ
    the_rule = rule(2)
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000"))
    exit_order = order("sell", "1", order_id="o4", ts=at(4))
    # Act
    first = engine.check(order(order_id="o1", ts=at(1)))
    second = engine.check(order(order_id="o2", ts=at(2)))
    third = engine.check(order(order_id="o3", ts=at(3)))
    would_refuse_exit = the_rule.check(exit_order, engine.view(), engine.states["order_rate_limit"])
    exit_ = engine.check(exit_order)
    still_full = engine.check(order(order_id="o5", ts=at(61)))  # window (1, 61]: o2 and the exit
    freed = engine.check(order(order_id="o6", ts=at(62)))  # window (2, 62]: the exit only
    # Assert
    assert (first.approved, second.approved) == (True, True)
    assert (third.approved, third.reason_code, third.rule) == (False, "order_rate_limit", "order_rate_limit")
    assert isinstance(would_refuse_exit, Deny)
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
    assert (still_full.approved, still_full.reason_code) == (False, "order_rate_limit")
    assert freed.approved is True


def test_order_rate_limit_headroom_when_approvals_in_two_symbols_then_one_row_per_symbol() -> None:
    # Arrange: MNQ approved at +0, +10, +20 s, ES at +25 s; read at +62 s, the window (2 s, 62 s]
    the_rule = rule()
    state = approvals(the_rule, [0, 10, 20])
    state = approve(the_rule, state, order(order_id="e1", symbol="ES", price="5000.00", ts=at(25)), at(25))
    # Act
    rows = the_rule.headroom(make_view(at(62)), state)
    # Assert: MNQ 2 of 10 = 20 % (the one at +0 s has left); ES 1 of 10 = 10 %
    assert [(r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("orders in the last 60 s", Scope(account="A1", symbol="MNQ"), D(2), D(10), "orders", D("20.0")),
        ("orders in the last 60 s", Scope(account="A1", symbol="ES"), D(1), D(10), "orders", D("10.0")),
    ]


def test_order_rate_limit_headroom_when_every_approval_has_left_the_window_then_no_row() -> None:
    # Arrange: approvals at +0 and +10 s; read at +70 s, the window (10 s, 70 s]
    the_rule = rule()
    state = approvals(the_rule, [0, 10])
    # Act
    rows = the_rule.headroom(make_view(at(70)), state)
    # Assert
    assert rows == []
