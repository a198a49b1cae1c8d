"""MaxOrderNotional: qty x price x point value against the limit; no price means no approval."""

from __future__ import annotations

from decimal import Decimal

from riskguard.core import RiskEngine
from riskguard.core.decisions import Allow, Deny
from riskguard.core.rules.max_order_notional import MaxOrderNotional, MaxOrderNotionalParams
from riskguard.testing.factories import MNQ, make_fill
from tests.unit.rules._view import account, at, make_view, order

RULE = MaxOrderNotional(MaxOrderNotionalParams(limit=Decimal("72000")))


def test_max_order_notional_when_exactly_at_the_limit_then_allowed() -> None:
    # 2 x 18000.00 x 2 USD = 72,000.00
    assert isinstance(RULE.check(order("buy", "2", price="18000.00"), make_view(), None), Allow)


def test_max_order_notional_when_over_the_limit_then_refused() -> None:
    # 2 x 18000.25 x 2 = 72,001.00
    verdict = RULE.check(order("buy", "2", price="18000.25"), make_view(), None)
    assert isinstance(verdict, Deny)
    assert (verdict.code, verdict.message) == (
        "max_order_notional",
        "order notional 72001.00 USD is over the 72000.00 USD limit per order",
    )


def test_max_order_notional_when_market_order_then_the_mark_prices_it() -> None:
    view = make_view(marks={"MNQ": "18000.25"})
    verdict = RULE.check(order("buy", "2", order_type="market", price=None), view, None)
    assert isinstance(verdict, Deny)
    assert verdict.code == "max_order_notional"


def test_max_order_notional_when_market_order_and_no_mark_then_refused_as_unknown() -> None:
    verdict = RULE.check(order("buy", "1", order_type="market", price=None), make_view(), None)
    assert isinstance(verdict, Deny)
    assert (verdict.code, verdict.message) == ("price_unknown", "no price for MNQ: the order's size cannot be checked")


def test_max_order_notional_through_the_engine_when_oversized_exit_then_still_approved() -> None:
    # Arrange: long 3; selling 3 at 18000 is 108,000 notional, over the limit, but it is an exit
    engine = RiskEngine([RULE], [MNQ])
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "3", "18000.00"))
    # Act / Assert
    assert engine.check(order("sell", "3", ts=at(1))).approved
    assert not engine.check(order("buy", "3", ts=at(1))).approved
