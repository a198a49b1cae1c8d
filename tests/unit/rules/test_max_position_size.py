"""MaxPositionSize: the net position in one symbol after the order, in quantity, money and % of equity."""

from __future__ import annotations

import pytest

from riskguard.core import ALLOW, AccountSnapshot, Deny, InvalidInput, RiskEngine, Scope
from riskguard.core.rules.max_position_size import MaxPositionSize, MaxPositionSizeParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order


def rule(**params: object) -> MaxPositionSize:
    return MaxPositionSize(MaxPositionSizeParams(**params))  # type: ignore[arg-type]


# -- params ------------------------------------------------------------------------------------


def test_params_when_no_limit_is_set_then_the_rule_refuses_to_build() -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="set at least one"):
        rule()


def test_params_when_a_limit_is_negative_then_the_rule_refuses_to_build() -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="limit_notional"):
        rule(limit_notional=D("-1"))


def test_params_when_defaults_then_every_limit_is_off() -> None:
    # Arrange / Act
    params = MaxPositionSizeParams()
    # Assert
    assert (params.limit_qty, params.limit_notional, params.limit_pct) == (None, None, None)
    assert params.enabled is True


# -- limit_qty -----------------------------------------------------------------------------------


def test_check_when_position_after_is_below_limit_qty_then_allows() -> None:
    # Arrange: long 1, buy 1 -> 2, under 3
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000")])
    # Act / Assert
    assert rule(limit_qty=D("3")).check(order("buy", "1"), view, None) == ALLOW


def test_check_when_position_after_equals_limit_qty_then_allows() -> None:
    # Arrange: long 2, buy 1 -> 3, exactly the limit
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000")])
    # Act / Assert
    assert rule(limit_qty=D("3")).check(order("buy", "1"), view, None) == ALLOW


def test_check_when_position_after_exceeds_limit_qty_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000")])
    # Act
    verdict = rule(limit_qty=D("3")).check(order("buy", "2"), view, None)
    # Assert: long 2 + buy 2 = 4 > 3
    assert verdict == Deny(
        "max_position_size",
        "max_position_size",
        "A1's MNQ position would be 4 after this order, over the limit of 3; the order is refused",
    )


def test_check_when_strategies_hold_the_symbol_then_their_net_position_counts() -> None:
    # Arrange: s1 long 2, s2 long 1 -> the account is long 3
    fills = [make_fill("f1", "buy", "2", "18000"), make_fill("f2", "buy", "1", "18000", strategy="s2")]
    view = make_view(fills=fills)
    # Act
    verdict = rule(limit_qty=D("3")).check(order("buy", "1"), view, None)
    # Assert: 3 + 1 = 4 > 3
    assert isinstance(verdict, Deny)
    assert verdict.code == "max_position_size"


def test_check_when_short_grows_past_limit_qty_then_denies() -> None:
    # Arrange
    view = make_view(fills=[make_fill("f1", "sell", "2", "18000")])
    # Act
    verdict = rule(limit_qty=D("3")).check(order("sell", "2"), view, None)
    # Assert: |-2 - 2| = 4 > 3
    assert isinstance(verdict, Deny)
    assert "would be 4" in verdict.message


@pytest.mark.parametrize(("qty", "allowed"), [("5", True), ("6", False)])
def test_check_when_order_flips_the_position_then_the_position_it_leaves_is_checked(qty: str, allowed: bool) -> None:
    # Arrange: long 2; sell 5 leaves short 3 (the limit), sell 6 leaves short 4
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000")])
    # Act
    verdict = rule(limit_qty=D("3")).check(order("sell", qty), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


# -- limit_notional ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "allowed"),
    [
        ("17999.75", True),  # 2 x 17999.75 x 2 = 71999.00 < 72000
        ("18000.00", True),  # 2 x 18000 x 2 = 72000.00, the limit
        ("18000.25", False),  # 2 x 18000.25 x 2 = 72001.00 > 72000
    ],
)
def test_check_when_position_value_is_around_limit_notional_then_only_over_denies(price: str, allowed: bool) -> None:
    # Arrange: long 1 MNQ (point value 2), buy 1 more at `price`
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000")])
    # Act
    verdict = rule(limit_notional=D("72000")).check(order("buy", "1", price=price), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_position_value_exceeds_limit_notional_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000")])
    # Act
    verdict = rule(limit_notional=D("72000")).check(order("buy", "1", price="18000.25"), view, None)
    # Assert: 2 x 18000.25 x 2 = 72001.00
    assert verdict == Deny(
        "max_position_size",
        "max_position_size",
        "A1's MNQ position would be worth 72001.00 USD after this order, over the 72000.00 USD limit; "
        "the order is refused",
    )


def test_check_when_market_order_has_no_price_then_the_mark_values_the_position() -> None:
    # Arrange: flat, mark 18000.25
    view = make_view(marks={"MNQ": "18000.25"})
    market = order("buy", "2", order_type="market", price=None)
    # Act
    verdict = rule(limit_notional=D("72000")).check(market, view, None)
    # Assert: 2 x 18000.25 x 2 = 72001.00 > 72000
    assert isinstance(verdict, Deny)
    assert "72001.00 USD" in verdict.message


def test_check_when_no_price_and_no_mark_then_denies_price_unknown() -> None:
    # Arrange
    view = make_view()
    market = order("buy", "1", order_type="market", price=None)
    # Act
    verdict = rule(limit_notional=D("72000")).check(market, view, None)
    # Assert
    assert verdict == Deny(
        "max_position_size", "price_unknown", "no price for MNQ: the position's value cannot be checked"
    )


def test_check_when_only_limit_qty_is_set_then_no_price_is_needed() -> None:
    # Arrange: no mark, market order without a price
    view = make_view()
    market = order("buy", "1", order_type="market", price=None)
    # Act / Assert
    assert rule(limit_qty=D("1")).check(market, view, None) == ALLOW


# -- limit_pct -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "allowed"),
    [
        ("17999.75", True),  # 71999.00 < 10 % of 720000 = 72000
        ("18000.00", True),  # 72000.00, the limit
        ("18000.25", False),  # 72001.00 > 72000
    ],
)
def test_check_when_position_value_is_around_limit_pct_then_only_over_denies(price: str, allowed: bool) -> None:
    # Arrange: equity 720000 USD, long 1 MNQ, buy 1 at `price`
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000")], accounts=[account(balance="720000")])
    # Act
    verdict = rule(limit_pct=D("10")).check(order("buy", "1", price=price), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_position_value_exceeds_limit_pct_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000")], accounts=[account(balance="720000")])
    # Act
    verdict = rule(limit_pct=D("10")).check(order("buy", "1", price="18000.25"), view, None)
    # Assert: 72001.00 > 720000 x 10 / 100 = 72000
    assert verdict == Deny(
        "max_position_size",
        "max_position_size",
        "A1's MNQ position would be worth 72001.00 USD after this order, over the 10.00 % of equity limit "
        "(72000.00 USD of 720000.00 USD); the order is refused",
    )


def test_check_when_equity_is_used_not_balance_then_the_limit_follows_equity() -> None:
    # Arrange: balance 720000 but equity 360000 -> 10 % is 36000
    view = make_view(accounts=[account(balance="720000", equity="360000")])
    # Act
    verdict = rule(limit_pct=D("10")).check(order("buy", "2", price="18000"), view, None)
    # Assert: 2 x 18000 x 2 = 72000 > 36000
    assert isinstance(verdict, Deny)
    assert "(36000.00 USD of 360000.00 USD)" in verdict.message


def test_check_when_pct_limit_and_no_account_snapshot_then_denies_account_unknown() -> None:
    # Arrange
    view = make_view(accounts=[])
    # Act
    verdict = rule(limit_pct=D("10")).check(order("buy", "1"), view, None)
    # Assert
    assert verdict == Deny(
        "max_position_size",
        "account_unknown",
        "no account update for A1: the position cannot be sized against its equity",
    )


def test_check_when_equity_is_not_positive_then_any_position_is_denied() -> None:
    # Arrange: equity -100 -> 10 % of it is -10
    view = make_view(accounts=[account(balance="100", equity="-100")])
    # Act
    verdict = rule(limit_pct=D("10")).check(order("buy", "1"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "max_position_size"


def test_check_when_equity_currency_differs_from_instrument_then_denies_currency_mismatch() -> None:
    # Arrange: BTC-PERP is valued in USDC, the account in USD
    view = make_view()
    btc = order("buy", "0.1", symbol="BTC-PERP", price="60000.0")
    # Act
    verdict = rule(limit_pct=D("10")).check(btc, view, None)
    # Assert
    assert verdict == Deny(
        "max_position_size",
        "currency_mismatch",
        "BTC-PERP is valued in USDC but A1's equity is in USD: the position cannot be sized against it",
    )


# -- through the engine ----------------------------------------------------------------------------


def test_engine_when_position_is_at_limit_then_entry_is_refused_and_exit_is_approved() -> None:
    # Arrange: the engine refuses new risk until it has an account snapshot
    engine = RiskEngine([rule(limit_qty=D("2"))], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "2", "18000"))
    # Act
    entry = engine.check(order("buy", "1", order_id="o1", ts=at(1)))
    exit_ = engine.check(order("sell", "2", order_id="o2", ts=at(2)))
    # Assert: long 2 + 1 = 3 > 2; the sell of 2 only reduces
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "max_position_size", "max_position_size")
    assert exit_.approved is True
    assert exit_.message == "approved: the order only reduces a position"


def test_engine_when_account_snapshot_arrives_later_then_pct_limit_uses_it() -> None:
    # Arrange
    engine = RiskEngine([rule(limit_pct=D("10"))], INSTRUMENTS)
    engine.handle(AccountSnapshot("A1", D("720000"), D("720000"), at(0)))
    # Act: 2 x 18000 x 2 = 72000, exactly 10 %
    at_limit = engine.check(order("buy", "2", price="18000", ts=at(1)))
    over = engine.check(order("buy", "2", price="18000.25", order_id="o2", ts=at(2)))
    # Assert
    assert at_limit.approved is True
    assert (over.approved, over.reason_code) == (False, "max_position_size")


# -- headroom ------------------------------------------------------------------------------------


def test_max_position_size_headroom_when_long_2_mnq_marked_then_one_row_per_limit() -> None:
    # Arrange: long 2 MNQ marked at 18000, equity 720000
    # qty: 2 of 5 = 40 %; value: 2 x 18000 x 2 = 72000 of 100000 = 72 %; of equity: 72000 / 720000 = 10.00 % of 10 = 100 %
    view = make_view(
        fills=[make_fill("f1", "buy", "2", "17000")], marks={"MNQ": "18000"}, accounts=[account("A1", "720000")]
    )
    limits = rule(limit_qty=D("5"), limit_notional=D("100000"), limit_pct=D("10"))
    # Act
    rows = limits.headroom(view, None)
    # Assert
    mnq = Scope(account="A1", symbol="MNQ")
    assert [(r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("position size", mnq, D(2), D(5), "contracts", D("40.0")),
        ("position value", mnq, D(72000), D(100000), "USD", D("72.0")),
        ("position value of equity", mnq, D("10.00"), D(10), "%", D("100.0")),
    ]


def test_max_position_size_headroom_when_no_mark_then_only_the_quantity_is_measured() -> None:
    # Arrange: long 2 MNQ and no mark: its value cannot be measured (the gate refuses, price_unknown)
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000")])
    limits = rule(limit_qty=D("4"), limit_notional=D("100000"), limit_pct=D("10"))
    # Act
    rows = limits.headroom(view, None)
    # Assert: 2 of 4 = 50 %
    assert [(r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("position size", Scope(account="A1", symbol="MNQ"), D(2), D(4), "contracts", D("50.0")),
    ]
