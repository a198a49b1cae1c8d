"""MaxOpenOrders: working orders per account, counted from the venue's order updates."""

from __future__ import annotations

import pytest

from riskguard.core import ALLOW, Deny, InvalidInput, OrderUpdated, RiskEngine, Scope
from riskguard.core.rules.max_open_orders import MaxOpenOrders, MaxOpenOrdersParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order, working


def rule(limit: int = 10) -> MaxOpenOrders:
    return MaxOpenOrders(MaxOpenOrdersParams(limit=limit))


def limits(count: int, *, account_id: str = "A1", status: str = "working") -> list[OrderUpdated]:
    """`count` resting buy limits, w0, w1, ..."""
    return [
        working(
            f"w{i}",
            "buy",
            "1",
            order_type="limit",
            stop_price=None,
            price="17000.00",
            account_id=account_id,
            status=status,
        )
        for i in range(count)
    ]


def test_params_when_defaults_then_limit_is_seed_004s_ten() -> None:
    # Arrange / Act / Assert
    assert MaxOpenOrdersParams().limit == 10


@pytest.mark.parametrize("limit", [-1, True])
def test_params_when_limit_is_not_a_count_then_the_rule_refuses_to_build(limit: int) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="limit"):
        rule(limit)


@pytest.mark.parametrize(("count", "allowed"), [(8, True), (9, True), (10, False)])
def test_check_when_working_orders_are_around_the_limit_then_only_over_denies(count: int, allowed: bool) -> None:
    # Arrange: `count` working, the order would make count + 1 (10 is the limit)
    view = make_view(orders=limits(count))
    # Act
    verdict = rule().check(order(), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_limit_is_reached_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view(orders=limits(10))
    # Act
    verdict = rule().check(order(), view, None)
    # Assert: 10 + 1 = 11 > 10
    assert verdict == Deny(
        "max_open_orders",
        "max_open_orders",
        "A1 has 10 working orders; one more would make 11, over the limit of 10; cancel one or wait for fills",
    )


def test_check_when_orders_belong_to_another_account_then_they_do_not_count() -> None:
    # Arrange
    view = make_view(orders=limits(10, account_id="A2"))
    # Act / Assert
    assert rule().check(order(), view, None) == ALLOW


def test_check_when_orders_were_cancelled_then_they_no_longer_count() -> None:
    # Arrange: 10 working, then all 10 reported cancelled
    view = make_view(orders=[*limits(10), *limits(10, status="cancelled")])
    # Act / Assert
    assert rule().check(order(), view, None) == ALLOW


def test_check_when_limit_is_zero_then_every_entry_is_denied() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule(0).check(order(), view, None)
    # Assert: 0 + 1 > 0
    assert isinstance(verdict, Deny)
    assert verdict.code == "max_open_orders"


def test_engine_when_at_limit_then_entry_is_refused_and_exit_is_approved() -> None:
    # Arrange: limit 1, one working stop, long 1 MNQ
    the_rule = rule(1)
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000"))
    engine.handle(working("w1", "sell", "1", ts=at(1)))
    exit_order = order("sell", "1", order_id="o2", ts=at(3))
    # Act
    entry = engine.check(order("buy", "1", order_id="o1", ts=at(2)))
    exit_ = engine.check(exit_order)
    # Assert: 1 working + 1 = 2 > 1 for both, yet the exit is approved before any rule runs
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "max_open_orders", "max_open_orders")
    assert isinstance(the_rule.check(exit_order, engine.view(), None), Deny)
    assert exit_.approved is True


def test_max_open_orders_headroom_when_3_working_of_5_then_60_pct_used() -> None:
    # Arrange: 3 working orders on A1, a limit of 5: 3 / 5 = 60 %
    view = make_view(orders=limits(3))
    # Act
    (row,) = rule(5).headroom(view, None)
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        "max_open_orders",
        "open orders",
        Scope(account="A1"),
        D(3),
        D(5),
        "orders",
    )
    assert (row.used_pct, row.remaining) == (D("60.0"), D(2))


def test_max_open_orders_headroom_when_an_account_has_only_working_orders_then_it_has_a_row_too() -> None:
    # Arrange: A1 (account update) has none working; B1, never reported, has 2 of 4 working = 50 %
    view = make_view(orders=limits(2, account_id="B1"))
    # Act
    rows = rule(4).headroom(view, None)
    # Assert
    assert [(r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        (Scope(account="A1"), D(0), D(4), "orders", D("0.0")),
        (Scope(account="B1"), D(2), D(4), "orders", D("50.0")),
    ]
