"""MaxExposure: the account's exposure at marks plus the order's notional, in money and % of equity."""

from __future__ import annotations

import pytest

from riskguard.core import ALLOW, Deny, InvalidInput, MarkUpdated, Price, RiskEngine, Scope
from riskguard.core.rules.max_exposure import MaxExposure, MaxExposureParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order

MNQ_LONG_2 = make_fill("f1", "buy", "2", "17000")  # valued at the mark, not at this entry


def rule(**params: object) -> MaxExposure:
    return MaxExposure(MaxExposureParams(**params))  # type: ignore[arg-type]


def test_params_when_no_limit_is_set_then_the_rule_refuses_to_build() -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="set at least one"):
        rule()


def test_params_when_a_limit_is_negative_then_the_rule_refuses_to_build() -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="limit_pct"):
        rule(limit_pct=D("-5"))


@pytest.mark.parametrize(
    ("price", "allowed"),
    [
        ("17999.75", True),  # held 2 x 18000 x 2 = 72000 + 1 x 17999.75 x 2 = 35999.50 -> 107999.50
        ("18000.00", True),  # 72000 + 36000 = 108000, the limit
        ("18000.25", False),  # 72000 + 36000.50 = 108000.50 > 108000
    ],
)
def test_check_when_exposure_is_around_the_limit_then_only_over_denies(price: str, allowed: bool) -> None:
    # Arrange: long 2 MNQ, marked at 18000
    view = make_view(fills=[MNQ_LONG_2], marks={"MNQ": "18000"})
    # Act
    verdict = rule(limit=D("108000")).check(order("buy", "1", price=price), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_exposure_exceeds_the_limit_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view(fills=[MNQ_LONG_2], marks={"MNQ": "18000"})
    # Act
    verdict = rule(limit=D("108000")).check(order("buy", "1", price="18000.25"), view, None)
    # Assert: 72000.00 held + 36000.50 = 108000.50
    assert verdict == Deny(
        "max_exposure",
        "max_exposure",
        "A1's exposure would be 108000.50 USD with this order (72000.00 USD held), over the 108000.00 USD limit; "
        "the order is refused",
    )


def test_check_when_several_symbols_are_held_then_their_exposures_add_up() -> None:
    # Arrange: MNQ 2 x 18000 x 2 = 72000; short ES 1 x 5000 x 50 = 250000; held 322000
    fills = [MNQ_LONG_2, make_fill("f2", "sell", "1", "5000", symbol="ES")]
    view = make_view(fills=fills, marks={"MNQ": "18000", "ES": "5000"})
    # Act: + 1 MNQ at 18000 = 36000 -> 358000
    at_limit = rule(limit=D("358000")).check(order("buy", "1"), view, None)
    over = rule(limit=D("357999.99")).check(order("buy", "1"), view, None)
    # Assert
    assert at_limit == ALLOW
    assert isinstance(over, Deny)
    assert "358000.00 USD with this order (322000.00 USD held)" in over.message


def test_check_when_order_flips_a_position_then_it_is_added_at_its_full_quantity() -> None:
    # Arrange: long 2 MNQ at 18000 (72000); selling 3 would leave short 1
    view = make_view(fills=[MNQ_LONG_2], marks={"MNQ": "18000"})
    # Act: 72000 + 3 x 18000 x 2 = 180000 (documented: a flip is counted in full)
    verdict = rule(limit=D("179999")).check(order("sell", "3"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert "180000.00 USD" in verdict.message


def test_check_when_a_held_symbol_has_no_mark_then_denies_price_unknown() -> None:
    # Arrange: long 2 MNQ and no mark for it; the order is in ES, which has one
    view = make_view(fills=[MNQ_LONG_2], marks={"ES": "5000"})
    # Act
    verdict = rule(limit=D("1000000")).check(order("buy", "1", symbol="ES", price="5000.00"), view, None)
    # Assert
    assert verdict == Deny(
        "max_exposure",
        "price_unknown",
        "no mark for MNQ, which A1 holds: its exposure cannot be valued; new risk is refused until a price arrives",
    )


def test_check_when_market_order_has_no_price_then_the_mark_values_it() -> None:
    # Arrange: flat; mark 18000
    view = make_view(marks={"MNQ": "18000"})
    market = order("buy", "2", order_type="market", price=None)
    # Act: 2 x 18000 x 2 = 72000
    at_limit = rule(limit=D("72000")).check(market, view, None)
    over = rule(limit=D("71999")).check(market, view, None)
    # Assert
    assert at_limit == ALLOW
    assert isinstance(over, Deny)


def test_check_when_order_has_no_price_and_no_mark_then_denies_price_unknown() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule(limit=D("72000")).check(order("buy", "1", order_type="market", price=None), view, None)
    # Assert
    assert verdict == Deny("max_exposure", "price_unknown", "no price for MNQ: the order's size cannot be checked")


def test_check_when_positions_are_in_two_currencies_then_denies_currency_mismatch() -> None:
    # Arrange: BTC-PERP is in USDC, MNQ in USD
    view = make_view(fills=[make_fill("f1", "buy", "0.1", "60000.0", symbol="BTC-PERP")], marks={"BTC-PERP": "60000"})
    # Act
    verdict = rule(limit=D("1000000")).check(order("buy", "1"), view, None)
    # Assert
    assert verdict == Deny(
        "max_exposure",
        "currency_mismatch",
        "A1 holds BTC-PERP in USDC and MNQ is in USD: exposure in two currencies cannot be added; the order is refused",
    )


def test_check_when_other_accounts_hold_positions_then_they_do_not_count() -> None:
    # Arrange: A2 holds 10 MNQ
    view = make_view(fills=[make_fill("f1", "buy", "10", "18000", account="A2")], marks={"MNQ": "18000"})
    # Act / Assert: A1's exposure is the order's 36000 alone
    assert rule(limit=D("36000")).check(order("buy", "1"), view, None) == ALLOW


@pytest.mark.parametrize(
    ("price", "allowed"),
    [
        ("17999.75", True),  # 107999.50 < 50 % of 216000 = 108000
        ("18000.00", True),  # 108000, the limit
        ("18000.25", False),  # 108000.50
    ],
)
def test_check_when_exposure_is_around_limit_pct_then_only_over_denies(price: str, allowed: bool) -> None:
    # Arrange: equity 216000 USD; long 2 MNQ at mark 18000 (72000)
    view = make_view(fills=[MNQ_LONG_2], marks={"MNQ": "18000"}, accounts=[account(balance="216000")])
    # Act
    verdict = rule(limit_pct=D("50")).check(order("buy", "1", price=price), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_exposure_exceeds_limit_pct_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view(fills=[MNQ_LONG_2], marks={"MNQ": "18000"}, accounts=[account(balance="216000")])
    # Act
    verdict = rule(limit_pct=D("50")).check(order("buy", "1", price="18000.25"), view, None)
    # Assert: 108000.50 > 216000 x 50 / 100 = 108000
    assert verdict == Deny(
        "max_exposure",
        "max_exposure",
        "A1's exposure would be 108000.50 USD with this order (72000.00 USD held), over the 50.00 % of equity "
        "limit (108000.00 USD of 216000.00 USD); the order is refused",
    )


def test_check_when_pct_limit_and_no_account_snapshot_then_denies_account_unknown() -> None:
    # Arrange
    view = make_view(accounts=[])
    # Act
    verdict = rule(limit_pct=D("50")).check(order("buy", "1"), view, None)
    # Assert
    assert verdict == Deny(
        "max_exposure", "account_unknown", "no account update for A1: its exposure cannot be compared with its equity"
    )


def test_check_when_equity_is_in_another_currency_then_denies_currency_mismatch() -> None:
    # Arrange: the account reports in USD, BTC-PERP is valued in USDC
    view = make_view()
    # Act
    verdict = rule(limit_pct=D("50")).check(order("buy", "0.1", symbol="BTC-PERP", price="60000.0"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "currency_mismatch"
    assert verdict.message.startswith("A1's equity is in USD and BTC-PERP is in USDC")


def test_check_when_both_limits_are_set_then_the_money_limit_is_checked_first() -> None:
    # Arrange: 36000 for the order; money limit 30000, pct limit 50 % of 50000 = 25000
    view = make_view()
    # Act
    verdict = rule(limit=D("30000"), limit_pct=D("50")).check(order("buy", "1"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert "over the 30000.00 USD limit" in verdict.message


def test_engine_when_exposure_is_at_limit_then_entry_is_refused_and_exit_is_approved() -> None:
    # Arrange: long 1 MNQ marked at 18000 = 36000, the limit
    the_rule = rule(limit=D("36000"))
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000"))
    engine.handle(MarkUpdated("MNQ", Price("18000"), at(1)))
    exit_order = order("sell", "1", order_id="o2", ts=at(3))
    # Act
    entry = engine.check(order("buy", "1", order_id="o1", ts=at(2)))
    exit_ = engine.check(exit_order)
    # Assert: the entry would make 72000 > 36000; so would the exit by this rule's sum, yet it passes
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "max_exposure", "max_exposure")
    assert isinstance(the_rule.check(exit_order, engine.view(), None), Deny)
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")


# -- headroom ------------------------------------------------------------------------------------


def test_max_exposure_headroom_when_mnq_and_es_held_then_money_and_pct_of_equity_rows() -> None:
    # Arrange: long 2 MNQ at 18000 x 2 = 72000 and long 1 ES at 5000 x 50 = 250000: 322000 held;
    # of a 400000 limit = 80.5 %; of equity 1000000 = 32.20 %, of a 50 % limit = 64.4 %
    view = make_view(
        fills=[MNQ_LONG_2, make_fill("f2", "buy", "1", "4900", symbol="ES")],
        marks={"MNQ": "18000", "ES": "5000"},
        accounts=[account("A1", "1000000")],
    )
    # Act
    rows = rule(limit=D("400000"), limit_pct=D("50")).headroom(view, None)
    # Assert
    assert [(r.rule, r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("max_exposure", "exposure", Scope(account="A1"), D(322000), D(400000), "USD", D("80.5")),
        ("max_exposure", "exposure of equity", Scope(account="A1"), D("32.20"), D(50), "%", D("64.4")),
    ]


def test_max_exposure_headroom_when_a_held_symbol_has_no_mark_then_no_row() -> None:
    # Arrange: long 2 MNQ with no mark: the exposure cannot be valued (the gate refuses, price_unknown)
    view = make_view(fills=[MNQ_LONG_2])
    # Act
    rows = rule(limit=D("400000"), limit_pct=D("50")).headroom(view, None)
    # Assert
    assert rows == []
