"""MaxPositions: distinct symbols with an open net position per account."""

from __future__ import annotations

import pytest

from riskguard.core import ALLOW, Deny, InvalidInput, OrderRequest, RiskEngine, Scope
from riskguard.core.rules.max_positions import MaxPositions, MaxPositionsParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order

MNQ_LONG = make_fill("f1", "buy", "1", "18000")
ES_LONG = make_fill("f2", "buy", "1", "5000", symbol="ES")


def rule(limit: int = 5) -> MaxPositions:
    return MaxPositions(MaxPositionsParams(limit=limit))


def btc(side: str = "buy") -> OrderRequest:
    return order(side, "0.1", symbol="BTC-PERP", price="60000.0")


def test_params_when_defaults_then_limit_is_seed_004s_five() -> None:
    # Arrange / Act / Assert
    assert MaxPositionsParams().limit == 5


def test_params_when_limit_is_negative_then_the_rule_refuses_to_build() -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="limit"):
        rule(-1)


def test_check_when_below_limit_then_a_new_symbol_is_allowed() -> None:
    # Arrange: holds MNQ (1 of 3)
    view = make_view(fills=[MNQ_LONG])
    # Act / Assert
    assert rule(3).check(btc(), view, None) == ALLOW


def test_check_when_new_symbol_makes_exactly_the_limit_then_allows() -> None:
    # Arrange: holds MNQ and ES; BTC-PERP would be the 3rd of 3
    view = make_view(fills=[MNQ_LONG, ES_LONG])
    # Act / Assert
    assert rule(3).check(btc(), view, None) == ALLOW


def test_check_when_at_limit_and_order_opens_new_symbol_then_denies_with_sentence() -> None:
    # Arrange: holds MNQ and ES, the limit is 2
    view = make_view(fills=[MNQ_LONG, ES_LONG])
    # Act
    verdict = rule(2).check(btc(), view, None)
    # Assert: 2 + 1 = 3 > 2
    assert verdict == Deny(
        "max_positions",
        "max_positions",
        "A1 holds positions in 2 symbols (ES, MNQ); opening BTC-PERP would make 3, over the limit of 2; close one first",
    )


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_check_when_at_limit_and_order_is_in_a_held_symbol_then_allows(side: str) -> None:
    # Arrange: holds MNQ and ES at the limit of 2; adding to (or flipping) MNQ keeps 2 symbols
    view = make_view(fills=[MNQ_LONG, ES_LONG])
    # Act / Assert
    assert rule(2).check(order(side, "3"), view, None) == ALLOW


def test_check_when_strategies_net_to_zero_then_the_symbol_is_not_held() -> None:
    # Arrange: s1 long 1 ES, s2 short 1 ES -> the account is flat in ES; it holds MNQ only
    fills = [MNQ_LONG, ES_LONG, make_fill("f3", "sell", "1", "5000", symbol="ES", strategy="s2")]
    view = make_view(fills=fills)
    # Act / Assert: 1 + 1 = 2, the limit
    assert rule(2).check(btc(), view, None) == ALLOW


def test_check_when_positions_belong_to_another_account_then_they_do_not_count() -> None:
    # Arrange
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000", account="A2")])
    # Act / Assert
    assert rule(1).check(btc(), view, None) == ALLOW


def test_check_when_limit_is_zero_and_flat_then_denies_without_a_symbol_list() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule(0).check(order(), view, None)
    # Assert
    assert verdict == Deny(
        "max_positions",
        "max_positions",
        "A1 holds positions in 0 symbols; opening MNQ would make 1, over the limit of 0; close one first",
    )


def test_engine_when_at_limit_then_new_symbol_is_refused_and_exit_and_add_are_approved() -> None:
    # Arrange
    engine = RiskEngine([rule(1)], INSTRUMENTS)
    engine.handle(account())
    engine.handle(MNQ_LONG)
    # Act
    entry = engine.check(order("buy", "1", symbol="ES", price="5000.00", order_id="o1", ts=at(1)))
    add = engine.check(order("buy", "1", order_id="o2", ts=at(2)))
    exit_ = engine.check(order("sell", "1", order_id="o3", ts=at(3)))
    # Assert
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "max_positions", "max_positions")
    assert add.approved is True
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")


def test_max_positions_headroom_when_2_symbols_held_of_5_then_40_pct_used() -> None:
    # Arrange: long MNQ and ES; BTC-PERP long in s1 and short in s2 nets to flat and is not counted:
    # 2 of 5 positions = 40 %
    view = make_view(
        fills=[
            MNQ_LONG,
            ES_LONG,
            make_fill("f3", "buy", "0.1", "60000.0", symbol="BTC-PERP"),
            make_fill("f4", "sell", "0.1", "60000.0", symbol="BTC-PERP", strategy="s2"),
        ]
    )
    # Act
    (row,) = rule(5).headroom(view, None)
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        "max_positions",
        "open positions",
        Scope(account="A1"),
        D(2),
        D(5),
        "positions",
    )
    assert (row.used_pct, row.remaining) == (D("40.0"), D(3))
