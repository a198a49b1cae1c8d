"""PriceDeviation: the fat-finger check of an order's price against a fresh mark."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskguard.core import ALLOW, AccountView, Deny, InvalidInput, MarkUpdated, Price, RiskEngine
from riskguard.core.rules.price_deviation import PriceDeviation, PriceDeviationParams, percent_text
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order


def rule(max_deviation_pct: str = "5", max_mark_age_seconds: int = 60) -> PriceDeviation:
    return PriceDeviation(
        PriceDeviationParams(max_deviation_pct=D(max_deviation_pct), max_mark_age_seconds=max_mark_age_seconds)
    )


def marked(price: str = "18000", *, marked_at: int = 0, now: int = 0) -> AccountView:
    """A view at T0 + `now` s whose MNQ mark `price` was taken at T0 + `marked_at` s."""
    view = make_view(at(now))
    view.ledger.mark("MNQ", price, at(marked_at))
    return view


def test_params_when_defaults_then_seed_004s_five_percent_and_a_minute() -> None:
    # Arrange / Act
    params = PriceDeviationParams()
    # Assert
    assert (params.max_deviation_pct, params.max_mark_age_seconds) == (Decimal(5), 60)


@pytest.mark.parametrize(
    ("field", "params"),
    [
        ("max_deviation_pct", {"max_deviation_pct": D("-1")}),
        ("max_mark_age_seconds", {"max_mark_age_seconds": 0}),
        ("max_mark_age_seconds", {"max_mark_age_seconds": True}),
    ],
)
def test_params_when_out_of_range_then_the_rule_refuses_to_build(field: str, params: dict[str, object]) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        PriceDeviation(PriceDeviationParams(**params))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("side", "price", "allowed"),
    [
        ("buy", "18899.75", True),  # 899.75 / 18000 = 4.998 %
        ("buy", "18900.00", True),  # 900 / 18000 = 5 %, the maximum
        ("buy", "18900.25", False),  # 900.25 / 18000 = 5.0014 %
        ("sell", "17100.00", True),  # 900 below: 5 %
        ("sell", "17099.75", False),  # 900.25 below
    ],
)
def test_check_when_price_is_around_the_maximum_deviation_then_only_over_denies(
    side: str, price: str, allowed: bool
) -> None:
    # Arrange: mark 18000, 5 % of it is 900
    view = marked()
    # Act
    verdict = rule().check(order(side, "1", price=price), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_price_deviates_too_far_then_denies_with_sentence() -> None:
    # Arrange
    view = marked()
    # Act
    verdict = rule().check(order("buy", "1", price="19000.00"), view, None)
    # Assert: 1000 / 18000 = 5.5555... % -> 5.56 %
    assert verdict == Deny(
        "price_deviation",
        "price_deviation",
        "buy limit price 19000.00 is 5.56 % from the MNQ mark 18000.00, over the 5.00 % maximum; "
        "check the price and send it again",
    )


def test_check_when_just_over_the_maximum_then_the_shown_percentage_is_rounded_up() -> None:
    # Arrange
    view = marked()
    # Act
    verdict = rule().check(order("buy", "1", price="18900.25"), view, None)
    # Assert: 900.25 / 18000 = 5.00138...% shows as 5.01 %, never as the 5.00 % it exceeds
    assert isinstance(verdict, Deny)
    assert "is 5.01 % from" in verdict.message


def test_percent_text_when_exact_then_two_decimals() -> None:
    # Arrange / Act / Assert: 900 / 18000 = 5 %
    assert percent_text(D("900"), D("18000")) == "5.00 %"


def test_check_when_market_order_has_no_price_then_allows_even_without_a_mark() -> None:
    # Arrange
    view = make_view()
    # Act / Assert: nothing to compare
    assert rule().check(order("buy", "1", order_type="market", price=None), view, None) == ALLOW


def test_check_when_market_order_carries_an_expected_price_then_it_is_checked() -> None:
    # Arrange
    view = marked()
    # Act
    verdict = rule().check(order("buy", "1", order_type="market", price="19000.00"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.message.startswith("buy market price 19000.00 is 5.56 %")


def test_check_when_stop_order_then_its_trigger_is_not_checked() -> None:
    # Arrange: a stop 10 % away, no limit price
    view = marked()
    stop = order("sell", "1", order_type="stop", price=None, stop_price="16200.00")
    # Act / Assert
    assert rule().check(stop, view, None) == ALLOW


def test_check_when_stop_limit_order_then_its_limit_price_is_checked() -> None:
    # Arrange
    view = marked()
    stop_limit = order("buy", "1", order_type="stop_limit", price="19000.00", stop_price="18990.00")
    # Act
    verdict = rule().check(stop_limit, view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "price_deviation"


def test_check_when_no_mark_then_denies_price_unknown() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule().check(order(), view, None)
    # Assert
    assert verdict == Deny(
        "price_deviation", "price_unknown", "no mark for MNQ: the order's price cannot be checked against the market"
    )


def test_check_when_mark_is_exactly_the_maximum_age_then_it_is_still_fresh() -> None:
    # Arrange: marked at T0, now T0 + 60 s
    view = marked(now=60)
    # Act / Assert
    assert rule().check(order(), view, None) == ALLOW


def test_check_when_mark_is_older_than_the_maximum_age_then_denies_price_stale() -> None:
    # Arrange: marked at T0 (14:30:00 UTC), now T0 + 61 s
    view = marked(now=61)
    # Act
    verdict = rule().check(order(), view, None)
    # Assert
    assert verdict == Deny(
        "price_deviation",
        "price_stale",
        "the last MNQ mark is 61 s old (from 14:30:00 UTC), more than the 60 s allowed; "
        "orders are refused until a fresh price arrives",
    )


def test_check_when_mark_age_has_a_fraction_then_it_is_shown_exactly() -> None:
    # Arrange: now T0 + 60.5 s
    view = make_view(at(60.5))
    view.ledger.mark("MNQ", "18000", T0)
    # Act
    verdict = rule().check(order(), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.message.startswith("the last MNQ mark is 60.5 s old")


def test_engine_when_price_is_far_from_the_mark_then_entry_is_refused_and_exit_is_approved() -> None:
    # Arrange: long 1 MNQ, mark 18000
    the_rule = rule()
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000"))
    engine.handle(MarkUpdated("MNQ", Price("18000"), at(1)))
    exit_order = order("sell", "1", price="19000.00", order_id="o2", ts=at(3))
    # Act
    entry = engine.check(order("buy", "1", price="19000.00", order_id="o1", ts=at(2)))
    exit_ = engine.check(exit_order)
    # Assert: both are 5.56 % from the mark; only the exit passes, before any rule runs
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "price_deviation", "price_deviation")
    assert isinstance(the_rule.check(exit_order, engine.view(), None), Deny)
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")


def test_engine_when_the_mark_goes_stale_then_entries_are_refused_until_a_new_mark() -> None:
    # Arrange
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(MarkUpdated("MNQ", Price("18000"), at(0)))
    # Act
    stale = engine.check(order(order_id="o1", ts=at(61)))
    engine.handle(MarkUpdated("MNQ", Price("18000"), at(62)))
    fresh = engine.check(order(order_id="o2", ts=at(63)))
    # Assert
    assert (stale.approved, stale.reason_code) == (False, "price_stale")
    assert fresh.approved is True
