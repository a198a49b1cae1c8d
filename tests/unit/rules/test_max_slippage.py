"""MaxSlippage: a market order's expected price against a fresh mark."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskguard.core import ALLOW, AccountView, Deny, InvalidInput, MarkUpdated, OrderRequest, Price, RiskEngine
from riskguard.core.rules.max_slippage import MaxSlippage, MaxSlippageParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order


def rule(max_slippage_pct: str = "1", max_mark_age_seconds: int = 60) -> MaxSlippage:
    return MaxSlippage(
        MaxSlippageParams(max_slippage_pct=D(max_slippage_pct), max_mark_age_seconds=max_mark_age_seconds)
    )


def marked(price: str, *, marked_at: int = 0, now: int = 0) -> AccountView:
    view = make_view(at(now))
    view.ledger.mark("MNQ", price, at(marked_at))
    return view


def market(side: str = "buy", expected: str | None = "18000.00") -> OrderRequest:
    return order(side, "1", order_type="market", price=expected)


def test_params_when_defaults_then_seed_004s_one_percent_and_a_minute() -> None:
    # Arrange / Act
    params = MaxSlippageParams()
    # Assert
    assert (params.max_slippage_pct, params.max_mark_age_seconds) == (Decimal(1), 60)


@pytest.mark.parametrize(
    ("field", "params"),
    [("max_slippage_pct", {"max_slippage_pct": D("-0.5")}), ("max_mark_age_seconds", {"max_mark_age_seconds": -1})],
)
def test_params_when_out_of_range_then_the_rule_refuses_to_build(field: str, params: dict[str, object]) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        MaxSlippage(MaxSlippageParams(**params))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mark", "allowed"),
    [
        ("18179.75", True),  # 179.75 / 18000 = 0.9986 %
        ("18180.00", True),  # 180 / 18000 = 1 %, the maximum
        ("18180.25", False),  # 180.25 / 18000 = 1.0014 %
        ("17820.00", True),  # 1 % in the sender's favour
        ("17819.75", False),  # past 1 % in the sender's favour: the expectation is stale too
    ],
)
def test_check_when_mark_is_around_the_maximum_slippage_then_only_over_denies(mark: str, allowed: bool) -> None:
    # Arrange: expected 18000; 1 % of it is 180
    view = marked(mark)
    # Act
    verdict = rule().check(market(), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_slippage_is_too_large_then_denies_with_sentence() -> None:
    # Arrange
    view = marked("18200.00")
    # Act
    verdict = rule().check(market(), view, None)
    # Assert: 200 / 18000 = 1.111... % -> 1.12 % (rounded up)
    assert verdict == Deny(
        "max_slippage",
        "max_slippage",
        "market buy expects 18000.00 but MNQ is marked at 18200.00, 1.12 % away, over the 1.00 % maximum slippage; "
        "refresh the expected price or send a limit order",
    )


def test_check_when_market_order_has_no_expected_price_then_allows_even_without_a_mark() -> None:
    # Arrange
    view = make_view()
    # Act / Assert
    assert rule().check(market(expected=None), view, None) == ALLOW


@pytest.mark.parametrize("order_type", ["limit", "stop_limit"])
def test_check_when_not_a_market_order_then_allows(order_type: str) -> None:
    # Arrange: a mark 10 % away; a limit price caps the fill by itself
    view = marked("19800")
    stop_price = "17990.00" if order_type == "stop_limit" else None
    # Act / Assert
    request = order("buy", "1", order_type=order_type, price="18000.00", stop_price=stop_price)
    assert rule().check(request, view, None) == ALLOW


def test_check_when_no_mark_then_denies_price_unknown() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule().check(market(), view, None)
    # Assert
    assert verdict == Deny(
        "max_slippage", "price_unknown", "no mark for MNQ: the order's price cannot be checked against the market"
    )


@pytest.mark.parametrize(("now", "code"), [(60, None), (61, "price_stale")])
def test_check_when_mark_ages_then_stale_from_just_past_the_maximum_age(now: int, code: str | None) -> None:
    # Arrange: marked at T0 at the expected price
    view = marked("18000", now=now)
    # Act
    verdict = rule().check(market(), view, None)
    # Assert: 60 s old is still fresh, 61 s is stale
    assert (None if verdict == ALLOW else verdict.code) == code  # type: ignore[union-attr]


def test_engine_when_market_moved_then_entry_is_refused_and_exit_is_approved() -> None:
    # Arrange: long 1 MNQ; the market is at 18200, the sender expects 18000
    the_rule = rule()
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000"))
    engine.handle(MarkUpdated("MNQ", Price("18200"), at(1)))
    exit_order = order("sell", "1", order_type="market", price="18000.00", order_id="o2", ts=at(3))
    # Act
    entry = engine.check(order("buy", "1", order_type="market", price="18000.00", order_id="o1", ts=at(2)))
    exit_ = engine.check(exit_order)
    # Assert: 1.12 % > 1 % for both; the exit is approved before any rule runs
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "max_slippage", "max_slippage")
    assert isinstance(the_rule.check(exit_order, engine.view(), None), Deny)
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
