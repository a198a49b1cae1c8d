"""DuplicateOrder: an order identical to one approved within the window is refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from riskguard.core import ALLOW, Deny, InvalidInput, OrderApproved, OrderRequest, RiskEngine
from riskguard.core.rules.duplicate_order import DuplicateOrder, DuplicateOrderParams, DuplicateOrderState
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order


def rule(window_seconds: int = 5) -> DuplicateOrder:
    return DuplicateOrder(DuplicateOrderParams(window_seconds=window_seconds))


def approve(
    the_rule: DuplicateOrder, request: OrderRequest, now: datetime, state: DuplicateOrderState | None = None
) -> DuplicateOrderState:
    """Feed one approval the way the engine does; it must never produce actions."""
    new_state, actions = the_rule.react(OrderApproved(request), make_view(now), state or the_rule.initial_state())
    assert list(actions) == []
    return new_state


def test_params_when_defaults_then_five_seconds() -> None:
    # Arrange / Act / Assert
    assert DuplicateOrderParams().window_seconds == 5


@pytest.mark.parametrize("value", [0, -5, True])
def test_params_when_window_is_not_a_positive_count_then_the_rule_refuses_to_build(value: int) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="window_seconds"):
        rule(value)


@pytest.mark.parametrize(("seconds", "allowed"), [(4.999, False), (5.0, True), (6.0, True)])
def test_check_when_an_identical_order_comes_around_the_window_then_refused_only_inside_it(
    seconds: float, allowed: bool
) -> None:
    # Arrange: approved at T0; the window at now is (now - 5 s, now]
    the_rule = rule()
    state = approve(the_rule, order(), at(0))
    # Act
    verdict = the_rule.check(order(order_id="o2", ts=at(seconds)), make_view(at(seconds)), state)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_an_identical_order_comes_inside_the_window_then_denies_with_sentence() -> None:
    # Arrange
    the_rule = rule()
    state = approve(the_rule, order(), at(0))
    # Act
    verdict = the_rule.check(order(order_id="o2", ts=at(2)), make_view(at(2)), state)
    # Assert: approved 14:30:00, refused until 14:30:05
    assert verdict == Deny(
        "duplicate_order",
        "duplicate_order",
        "an identical order (buy 1 MNQ limit at 18000.00) was approved for A1 at 14:30:00 UTC; the same order is "
        "refused for 5 s after it, so until 2026-03-06 14:30:05 UTC",
    )


def test_check_when_only_strategy_order_id_or_number_spelling_differ_then_still_a_duplicate() -> None:
    # Arrange: approved as qty 1, price 18000.00 by s1
    the_rule = rule()
    state = approve(the_rule, order(), at(0))
    # Act: qty "1.0", price "18000", another strategy and order id
    again = order(qty="1.0", price="18000", strategy="s2", order_id="other")
    verdict = the_rule.check(again, make_view(at(1)), state)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "duplicate_order"


@pytest.mark.parametrize(
    "different",
    [
        {"side": "sell"},
        {"qty": "2"},
        {"price": "18000.25"},
        {"order_type": "market", "price": None},
        {"symbol": "ES", "price": "18000.00"},
        {"account_id": "A2"},
    ],
)
def test_check_when_one_field_differs_then_allows(different: dict[str, object]) -> None:
    # Arrange
    the_rule = rule()
    state = approve(the_rule, order(), at(0))
    # Act
    verdict = the_rule.check(order(order_id="o2", **different), make_view(at(1)), state)  # type: ignore[arg-type]
    # Assert
    assert verdict == ALLOW


def test_check_when_stop_orders_differ_only_in_trigger_then_allows() -> None:
    # Arrange
    the_rule = rule()
    stop = order("sell", "1", order_type="stop", price=None, stop_price="17990.00")
    state = approve(the_rule, stop, at(0))
    # Act
    moved = the_rule.check(
        order("sell", "1", order_type="stop", price=None, stop_price="17980.00"), make_view(at(1)), state
    )
    same = the_rule.check(stop, make_view(at(1)), state)
    # Assert
    assert moved == ALLOW
    assert isinstance(same, Deny)
    assert "(sell 1 MNQ stop trigger 17990.00)" in same.message


def test_react_when_approvals_leave_the_window_then_they_are_dropped() -> None:
    # Arrange: an ES order at T0, an MNQ order at T0 + 3 s
    the_rule = rule()
    state = approve(the_rule, order(symbol="ES", price="5000.00"), at(0))
    state = approve(the_rule, order(), at(3), state)
    # Act: another MNQ approval at T0 + 5 s: the ES one (5 s old) has left the window
    state = approve(the_rule, order(qty="2"), at(5), state)
    # Assert
    assert list(state.approved.values()) == [at(3), at(5)]


def test_react_when_the_same_order_is_approved_again_then_one_entry_with_the_latest_time() -> None:
    # Arrange
    the_rule = rule()
    state = approve(the_rule, order(), at(0))
    # Act
    state = approve(the_rule, order(), at(6), state)
    # Assert
    assert list(state.approved.values()) == [at(6)]


def test_engine_when_an_entry_is_resent_then_refused_but_a_repeated_exit_passes() -> None:
    # Arrange: long 1 MNQ
    the_rule = rule()
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000"))
    exit_order = order("sell", "1", price="18010.00", order_id="x2", ts=at(4))
    # Act
    first = engine.check(order(order_id="o1", ts=at(1)))
    resent = engine.check(order(order_id="o2", ts=at(2)))
    first_exit = engine.check(order("sell", "1", price="18010.00", order_id="x1", ts=at(3)))
    would_refuse_exit = the_rule.check(exit_order, engine.view(), engine.states["duplicate_order"])
    second_exit = engine.check(exit_order)
    later = engine.check(order(order_id="o3", ts=at(6)))
    # Assert: the entry resent 1 s later is refused; the identical exit is approved before any rule runs
    assert first.approved is True
    assert (resent.approved, resent.reason_code, resent.rule) == (False, "duplicate_order", "duplicate_order")
    assert first_exit.approved is True
    assert isinstance(would_refuse_exit, Deny)
    assert (second_exit.approved, second_exit.message) == (True, "approved: the order only reduces a position")
    assert later.approved is True  # 5 s after the approval at T0 + 1 s
