"""PerTradeRisk: an order's loss at its stop as % of equity, concurrent positions, reward/risk, portfolio budget."""

from __future__ import annotations

import pytest

from riskguard.core import (
    ALLOW,
    AccountView,
    Deny,
    Fill,
    InvalidInput,
    OrderRequest,
    OrderUpdated,
    RiskEngine,
    Scope,
)
from riskguard.core.rules.per_trade_risk import PerTradeRisk, PerTradeRiskParams, current_per_trade_risk
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order, working

# Default account A1: equity 50000 USD, so the default 2 % cap is 1000.00 USD.
# MNQ: point value 2 USD, tick 0.25. ES: point value 50 USD. BTC-PERP: USDC.

MNQ_LONG_2 = make_fill("f1", "buy", "2", "18000")  # cost 36000
ES_SHORT_1_A2 = make_fill("f2", "sell", "1", "5000", symbol="ES", account="A2")  # cost -5000
MNQ_STOP_2 = working("st1", "sell", "2", stop_price="17900.00")  # (36000 - 2 x 17900) x 2 = 400 at risk
ES_STOP_1_A2 = working("st2", "buy", "1", symbol="ES", account_id="A2", stop_price="5004.00")  # 4 x 50 = 200


def rule(**params: object) -> PerTradeRisk:
    return PerTradeRisk(PerTradeRiskParams(**params))  # type: ignore[arg-type]


def mnq_buy(qty: str = "2", stop_loss: str | None = "17750.00", **extra: object) -> OrderRequest:
    return order("buy", qty, price="18000.00", stop_loss=stop_loss, **extra)  # type: ignore[arg-type]


# -- params ------------------------------------------------------------------------------------


def test_params_when_defaults_then_seed_003s_two_percent_with_a_required_stop_and_the_rest_off() -> None:
    # Arrange / Act
    params = PerTradeRiskParams()
    # Assert
    assert params.max_risk_per_trade_pct == D("2")
    assert params.require_stop is True
    assert params.fee_per_contract == D("0")
    assert (params.max_concurrent_positions, params.min_risk_reward_ratio, params.portfolio_budget) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize("pct", ["0", "-1", "100.01"])
def test_params_when_cap_is_outside_0_to_100_then_the_rule_refuses_to_build(pct: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="max_risk_per_trade_pct"):
        rule(max_risk_per_trade_pct=D(pct))


def test_params_when_cap_is_100_then_the_rule_builds() -> None:
    # Arrange / Act / Assert: the upper bound is allowed
    assert rule(max_risk_per_trade_pct=D("100")).params.max_risk_per_trade_pct == D("100")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fee_per_contract", D("-0.01")),
        ("max_concurrent_positions", -1),
        ("max_concurrent_positions", True),
        ("min_risk_reward_ratio", D("0")),
        ("portfolio_budget", D("-1")),
        ("require_stop", "yes"),
    ],
)
def test_params_when_a_control_is_out_of_range_then_the_rule_refuses_to_build(field: str, value: object) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule(**{field: value})


# -- the per-trade cap ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stop_loss", "allowed"),
    [
        ("17750.25", True),  # 249.75 x 2 x 2 = 999.00 < 1000
        ("17750.00", True),  # 250 x 2 x 2 = 1000.00, exactly 2 % of 50000
        ("17749.75", False),  # 250.25 x 2 x 2 = 1001.00 > 1000
    ],
)
def test_check_when_risk_is_around_the_cap_then_only_over_denies(stop_loss: str, allowed: bool) -> None:
    # Arrange: equity 50000, buy 2 MNQ at 18000
    view = make_view()
    # Act
    verdict = rule().check(mnq_buy("2", stop_loss), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_risk_is_over_the_cap_then_denies_with_money_percent_and_cap() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule().check(mnq_buy("2", "17749.75"), view, None)
    # Assert: 250.25 x 2 x 2 = 1001.00 USD; 1001 / 50000 = 2.002 % shown rounded up as 2.01 %;
    # the cap is 50000 x 2 / 100 = 1000.00 USD
    assert verdict == Deny(
        "per_trade_risk",
        "risk_limit_exceeded",
        "A1's buy of 2 MNQ risks 1001.00 USD to its stop 17749.75 from the entry 18000.00, 2.01 % of equity "
        "50000.00 USD, over the 2.00 % per-trade cap (1000.00 USD); the order is refused",
    )


@pytest.mark.parametrize(
    ("stop_loss", "allowed"),
    [
        ("17751.25", True),  # 248.75 x 2 x 2 = 995 + fees 1.25 x 2 x 2 = 5 -> 1000.00, the cap
        ("17751.00", False),  # 249 x 2 x 2 = 996 + 5 = 1001.00 > 1000
    ],
)
def test_check_when_fee_per_contract_is_set_then_both_sides_fees_count(stop_loss: str, allowed: bool) -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule(fee_per_contract=D("1.25")).check(mnq_buy("2", stop_loss), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed
    if not allowed:
        assert isinstance(verdict, Deny)
        assert "risks 1001.00 USD to its stop 17751.00 from the entry 18000.00 (fees 5.00 USD included)" in (
            verdict.message
        )


@pytest.mark.parametrize(
    ("stop_loss", "allowed"),
    [
        ("5020.00", True),  # short ES: 20 x 1 x 50 = 1000.00, the cap
        ("5020.25", False),  # 20.25 x 50 = 1012.50 > 1000
    ],
)
def test_check_when_a_short_entry_then_the_stop_above_is_measured(stop_loss: str, allowed: bool) -> None:
    # Arrange
    view = make_view()
    sell = order("sell", "1", symbol="ES", price="5000.00", stop_loss=stop_loss)
    # Act
    verdict = rule().check(sell, view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_market_order_then_the_mark_is_the_entry_not_the_expected_price() -> None:
    # Arrange: the sender expects 18000.00, the mark is 18000.25
    view = make_view(marks={"MNQ": "18000.25"})
    market = order("buy", "2", order_type="market", price="18000.00", stop_loss="17750.00")
    # Act
    verdict = rule().check(market, view, None)
    # Assert: from the mark, 250.25 x 2 x 2 = 1001.00 > 1000 (from 18000.00 it would be exactly 1000)
    assert isinstance(verdict, Deny)
    assert "risks 1001.00 USD to its stop 17750.00 from the mark 18000.25" in verdict.message


def test_check_when_market_order_and_no_mark_then_denies_price_unknown() -> None:
    # Arrange
    view = make_view()
    market = order("buy", "1", order_type="market", price=None, stop_loss="17990.00")
    # Act
    verdict = rule().check(market, view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "price_unknown",
        "no mark for MNQ: a market order's entry, and so its risk to the stop, cannot be known; new risk is refused "
        "until a price arrives",
    )


@pytest.mark.parametrize(
    ("stop_loss", "allowed"),
    [
        ("17760.00", True),  # a buy stop triggering at 18010: 250 x 2 x 2 = 1000.00
        ("17759.75", False),  # 250.25 x 2 x 2 = 1001.00
    ],
)
def test_check_when_stop_entry_order_then_its_trigger_is_the_entry(stop_loss: str, allowed: bool) -> None:
    # Arrange
    view = make_view()
    stop_entry = order("buy", "2", order_type="stop", price=None, stop_price="18010.00", stop_loss=stop_loss)
    # Act / Assert
    assert (rule().check(stop_entry, view, None) == ALLOW) is allowed


def test_check_when_stop_limit_entry_then_its_limit_price_is_the_entry() -> None:
    # Arrange: trigger 18010, limit 18012 (the worst fill): 262 x 2 x 2 = 1048 > 1000 (from 18010: 1040)
    view = make_view()
    stop_limit = order(
        "buy", "2", order_type="stop_limit", price="18012.00", stop_price="18010.00", stop_loss="17750.00"
    )
    # Act
    verdict = rule().check(stop_limit, view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert "risks 1048.00 USD to its stop 17750.00 from the entry 18012.00" in verdict.message


def test_check_when_equity_is_below_balance_then_the_cap_follows_equity() -> None:
    # Arrange: balance 50000, equity 40000 -> 2 % is 800.00
    view = make_view(accounts=[account(balance="50000", equity="40000")])
    # Act
    verdict = rule().check(mnq_buy("2", "17800.00"), view, None)
    # Assert: 200 x 2 x 2 = 800.00, exactly the cap
    assert verdict == ALLOW
    over = rule().check(mnq_buy("2", "17799.75"), view, None)
    assert isinstance(over, Deny)
    assert "over the 2.00 % per-trade cap (800.00 USD)" in over.message


def test_check_when_cap_is_raised_then_the_larger_risk_passes() -> None:
    # Arrange: 1001.00 is 2.002 % of 50000
    view = make_view()
    # Act / Assert
    assert rule(max_risk_per_trade_pct=D("2.002")).check(mnq_buy("2", "17749.75"), view, None) == ALLOW


# -- fail closed -----------------------------------------------------------------------------------


def test_check_when_stop_is_required_and_missing_then_denies_risk_limit_exceeded() -> None:
    # Arrange
    view = make_view()
    # Act
    verdict = rule().check(order("buy", "1"), view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "risk_limit_exceeded",
        "A1's buy of 1 MNQ carries no stop_loss, and one is required: without a stop its risk cannot be measured "
        "against the 2.00 % per-trade cap; attach a stop_loss and send it again",
    )


def test_check_when_stop_is_not_required_and_missing_then_the_cap_does_not_apply() -> None:
    # Arrange: 100 MNQ, no stop: its risk is not measured (require_stop off is the operator's choice)
    view = make_view()
    # Act / Assert
    assert rule(require_stop=False).check(order("buy", "100"), view, None) == ALLOW


def test_check_when_no_account_snapshot_then_denies_account_unknown() -> None:
    # Arrange
    view = make_view(accounts=[])
    # Act
    verdict = rule().check(mnq_buy("1", "17990.00"), view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "account_unknown",
        "no account update for A1: the order's risk cannot be compared with its equity; new risk is refused until "
        "the venue reports it",
    )


def test_check_when_equity_currency_differs_from_the_instrument_then_denies_currency_mismatch() -> None:
    # Arrange: BTC-PERP is in USDC, A1 in USD
    view = make_view()
    btc = order("buy", "0.1", symbol="BTC-PERP", price="60000.0", stop_loss="59000.0")
    # Act
    verdict = rule().check(btc, view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "currency_mismatch",
        "BTC-PERP is valued in USDC but A1's equity is in USD: the order's risk cannot be compared with it; "
        "the order is refused",
    )


@pytest.mark.parametrize("equity", ["0", "-100"])
def test_check_when_equity_is_not_positive_then_any_risk_is_refused(equity: str) -> None:
    # Arrange: 1 MNQ with a 1-tick stop risks 0.25 x 2 = 0.50
    view = make_view(accounts=[account(balance="100", equity=equity)])
    # Act
    verdict = rule().check(mnq_buy("1", "17999.75"), view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "risk_limit_exceeded",
        f"A1's buy of 1 MNQ risks 0.50 USD to its stop 17999.75 from the entry 18000.00, but A1's equity is "
        f"{equity}.00 USD: it leaves no room for risk; the order is refused",
    )


# -- max_concurrent_positions ------------------------------------------------------------------------


def pool_view(*extra_fills: Fill) -> AccountView:
    """The live pool: A1 long MNQ, A2 short ES (2 positions over 2 accounts), both with snapshots."""
    return make_view(
        fills=[MNQ_LONG_2, ES_SHORT_1_A2, *extra_fills],
        accounts=[account("A1"), account("A2")],
    )


@pytest.mark.parametrize(
    ("limit", "allowed"),
    [
        (4, True),  # 2 held + 1 = 3 < 4
        (3, True),  # 3, exactly the limit
        (2, False),  # 3 > 2
    ],
)
def test_check_when_an_order_opens_a_new_pair_around_the_limit_then_only_over_denies(limit: int, allowed: bool) -> None:
    # Arrange: A2 opening MNQ is a new (account, symbol) pair
    view = pool_view()
    a2_mnq = order("buy", "1", account_id="A2", stop_loss="17990.00")
    # Act
    verdict = rule(max_concurrent_positions=limit).check(a2_mnq, view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_concurrent_limit_is_reached_then_denies_with_the_pool_listed() -> None:
    # Arrange
    view = pool_view()
    a2_mnq = order("buy", "1", account_id="A2", stop_loss="17990.00")
    # Act
    verdict = rule(max_concurrent_positions=2).check(a2_mnq, view, None)
    # Assert: (A1, MNQ) and (A2, ES) held; A2 MNQ would be the 3rd of 2
    assert verdict == Deny(
        "per_trade_risk",
        "max_concurrent_positions",
        "the accounts hold 2 positions (A1 MNQ, A2 ES); opening A2 MNQ would make 3, over the limit of 2 concurrent "
        "positions; close one first",
    )


def test_check_when_concurrent_limit_is_reached_and_order_adds_to_a_held_pair_then_allows() -> None:
    # Arrange: A1 already holds MNQ, so adding to it keeps the count at 2
    view = pool_view()
    # Act / Assert: 1 MNQ with a 10-point stop risks 20.00, well under the cap
    assert rule(max_concurrent_positions=2).check(mnq_buy("1", "17990.00"), view, None) == ALLOW


def test_check_when_strategies_net_to_zero_then_the_pair_is_not_counted() -> None:
    # Arrange: A1's ES: s1 long 1, s2 short 1 -> net 0, the venue shows nothing
    view = pool_view(
        make_fill("f3", "buy", "1", "5000", symbol="ES"),
        make_fill("f4", "sell", "1", "5000", symbol="ES", strategy="s2"),
    )
    a2_mnq = order("buy", "1", account_id="A2", stop_loss="17990.00")
    # Act / Assert: still 2 held, A2 MNQ makes 3 = the limit
    assert rule(max_concurrent_positions=3).check(a2_mnq, view, None) == ALLOW


def test_check_when_an_account_without_snapshot_holds_a_position_then_it_counts_in_the_pool() -> None:
    # Arrange: A3 holds MNQ but has sent no account update yet; it is still part of what the engine guards
    view = make_view(
        fills=[MNQ_LONG_2, make_fill("f3", "buy", "1", "18000", account="A3")], accounts=[account("A1"), account("A2")]
    )
    a2_es = order("sell", "1", symbol="ES", account_id="A2", price="5000.00", stop_loss="5010.00")
    # Act
    verdict = rule(max_concurrent_positions=2).check(a2_es, view, None)
    # Assert: (A1, MNQ) and (A3, MNQ) held: A2 ES would be the 3rd of 2
    assert isinstance(verdict, Deny)
    assert verdict.code == "max_concurrent_positions"
    assert "(A1 MNQ, A3 MNQ)" in verdict.message


# -- min_risk_reward_ratio -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("take_profit", "allowed"),
    [
        ("18030.00", True),  # reward 30 / risk 10 = 3 > 2
        ("18020.00", True),  # 20 / 10 = 2, exactly the minimum
        ("18019.75", False),  # 19.75 / 10 = 1.975 < 2
    ],
)
def test_check_when_reward_risk_is_around_the_minimum_then_only_below_denies(take_profit: str, allowed: bool) -> None:
    # Arrange: buy 1 MNQ at 18000, stop 17990
    view = make_view()
    bracket = mnq_buy("1", "17990.00", take_profit=take_profit)
    # Act
    verdict = rule(min_risk_reward_ratio=D("2")).check(bracket, view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_reward_risk_is_below_the_minimum_then_denies_with_sentence() -> None:
    # Arrange
    view = make_view()
    bracket = mnq_buy("1", "17990.00", take_profit="18019.75")
    # Act
    verdict = rule(min_risk_reward_ratio=D("2")).check(bracket, view, None)
    # Assert: 19.75 / 10 = 1.975, shown rounded down as 1.97 so it never reads as the minimum
    assert verdict == Deny(
        "per_trade_risk",
        "min_risk_reward_ratio",
        "reward/risk of A1's buy of 1 MNQ is 1.97 (target 18019.75 is 19.75 from the entry 18000.00, stop 17990.00 "
        "is 10.00 from it), below the minimum of 2.00; move the target or the stop and send it again",
    )


@pytest.mark.parametrize(("take_profit", "allowed"), [("4980.00", True), ("4980.25", False)])
def test_check_when_short_bracket_then_reward_is_below_the_entry(take_profit: str, allowed: bool) -> None:
    # Arrange: sell ES at 5000, stop 5010 (risk 10): target 4980 pays 20 (2.0), 4980.25 pays 19.75 (1.975)
    view = make_view()
    sell = order("sell", "1", symbol="ES", price="5000.00", stop_loss="5010.00", take_profit=take_profit)
    # Act / Assert: the cap (10 x 50 = 500.00 <= 1000) passes either way
    assert (rule(min_risk_reward_ratio=D("2")).check(sell, view, None) == ALLOW) is allowed


def test_check_when_order_has_a_stop_but_no_target_then_reward_risk_is_not_checked() -> None:
    # Arrange
    view = make_view()
    # Act / Assert
    assert rule(min_risk_reward_ratio=D("2")).check(mnq_buy("1", "17990.00"), view, None) == ALLOW


def test_check_when_market_orders_mark_is_past_its_target_then_there_is_no_reward() -> None:
    # Arrange: mark 18025 is already above the 18020 target of a buy: reward 0, not |18020 - 18025| = 5
    view = make_view(marks={"MNQ": "18025.00"})
    market = order("buy", "1", order_type="market", price=None, stop_loss="17990.00", take_profit="18020.00")
    # Act
    verdict = rule(min_risk_reward_ratio=D("0.1")).check(market, view, None)
    # Assert: risk 18025 - 17990 = 35
    assert isinstance(verdict, Deny)
    assert verdict.code == "min_risk_reward_ratio"
    assert verdict.message.startswith(
        "reward/risk of A1's buy of 1 MNQ is 0.00 (target 18020.00 is 0.00 from the mark 18025.00, stop 17990.00 "
        "is 35.00 from it)"
    )


# -- portfolio_budget ---------------------------------------------------------------------------------------


def budget_view(*orders: OrderUpdated, fills: tuple[Fill, ...] = (MNQ_LONG_2, ES_SHORT_1_A2)) -> AccountView:
    return make_view(fills=fills, orders=orders, accounts=[account("A1"), account("A2")])


@pytest.mark.parametrize(
    ("budget", "allowed"),
    [
        ("1000", True),  # 400 + 200 + 200 = 800 < 1000
        ("800", True),  # exactly the budget
        ("799.50", False),  # 800 > 799.50
    ],
)
def test_check_when_money_at_risk_is_around_the_budget_then_only_over_denies(budget: str, allowed: bool) -> None:
    # Arrange: A1 long 2 MNQ @ 18000 stop 17900: (36000 - 35800) x 2 = 400; A2 short 1 ES @ 5000 stop 5004:
    # 4 x 50 = 200; the order buys 1 MNQ @ 18000 with its stop at 17900: 100 x 1 x 2 = 200
    view = budget_view(MNQ_STOP_2, ES_STOP_1_A2)
    # Act
    verdict = rule(portfolio_budget=D(budget)).check(mnq_buy("1", "17900.00"), view, None)
    # Assert
    assert (verdict == ALLOW) is allowed


def test_check_when_money_at_risk_is_over_the_budget_then_denies_with_sentence() -> None:
    # Arrange
    view = budget_view(MNQ_STOP_2, ES_STOP_1_A2)
    # Act
    verdict = rule(portfolio_budget=D("799.50")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert: 400 + 200 held, 200 for the order
    assert verdict == Deny(
        "per_trade_risk",
        "risk_limit_exceeded",
        "money at risk would be 800.00 USD with this order (600.00 USD to the working stops of the open positions, "
        "200.00 USD for this order), over the 799.50 USD portfolio budget; the order is refused",
    )


def test_check_when_fee_per_contract_is_set_then_the_budget_counts_fees_of_both_sides() -> None:
    # Arrange: fee 1 per contract per side: MNQ 400 + 2 x 2 = 404, ES 200 + 1 x 2 = 202, order 200 + 1 x 2 = 202
    view = budget_view(MNQ_STOP_2, ES_STOP_1_A2)
    # Act
    at_budget = rule(fee_per_contract=D("1"), portfolio_budget=D("808")).check(mnq_buy("1", "17900.00"), view, None)
    over = rule(fee_per_contract=D("1"), portfolio_budget=D("807.99")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert: 404 + 202 + 202 = 808
    assert at_budget == ALLOW
    assert isinstance(over, Deny)
    assert "money at risk would be 808.00 USD" in over.message


def test_check_when_a_stop_locks_in_a_profit_then_it_does_not_offset_other_risk() -> None:
    # Arrange: A1's MNQ stop moved to 18010 locks in (36020 - 36000) x 2 = 40: it counts as 0, not -40;
    # A2's ES risks 200 and the order 200, so 400 is at risk (360 if the locked profit were netted)
    view = budget_view(working("st1", "sell", "2", stop_price="18010.00"), ES_STOP_1_A2)
    # Act
    verdict = rule(portfolio_budget=D("399.50")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert "money at risk would be 400.00 USD with this order (200.00 USD to the working stops" in verdict.message


def test_check_when_a_position_has_no_working_stop_then_its_risk_is_unknown_and_new_risk_is_refused() -> None:
    # Arrange: A2's ES short has no stop
    view = budget_view(MNQ_STOP_2)
    # Act
    verdict = rule(portfolio_budget=D("100000")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "risk_limit_exceeded",
        "A2's short 1 ES is not fully covered by working stop orders: the money at risk cannot be counted against "
        "the 100000.00 USD portfolio budget; new risk is refused until its stop is working or it is closed",
    )


def test_check_when_working_stops_cover_only_part_of_a_position_then_new_risk_is_refused() -> None:
    # Arrange: long 2 MNQ, a stop for 1
    view = budget_view(working("st1", "sell", "1", stop_price="17900.00"), ES_STOP_1_A2)
    # Act
    verdict = rule(portfolio_budget=D("100000")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.message.startswith("A1's long 2 MNQ is not fully covered by working stop orders")


def test_check_when_a_stop_sits_on_the_opening_side_then_it_does_not_protect() -> None:
    # Arrange: a buy stop above a long is an entry, not a protective stop
    view = budget_view(working("st1", "buy", "2", stop_price="18100.00"), ES_STOP_1_A2)
    # Act
    verdict = rule(portfolio_budget=D("100000")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert "not fully covered" in verdict.message


def test_check_when_order_has_no_stop_and_a_budget_is_set_then_its_risk_is_unknown() -> None:
    # Arrange: require_stop off, so only the budget objects
    view = budget_view(MNQ_STOP_2, ES_STOP_1_A2)
    # Act
    verdict = rule(require_stop=False, portfolio_budget=D("100000")).check(order("buy", "1"), view, None)
    # Assert
    assert verdict == Deny(
        "per_trade_risk",
        "risk_limit_exceeded",
        "A1's buy of 1 MNQ carries no stop_loss: its risk cannot be counted against the 100000.00 USD portfolio "
        "budget; attach a stop_loss and send it again",
    )


def test_check_when_the_pool_holds_another_currency_then_the_budget_denies_currency_mismatch() -> None:
    # Arrange: A3 holds BTC-PERP (USDC) with a stop; the order is in USD
    btc = make_fill("f3", "buy", "0.1", "60000.0", symbol="BTC-PERP", account="A3")
    btc_stop = working("st3", "sell", "0.1", symbol="BTC-PERP", account_id="A3", stop_price="59000.0")
    view = budget_view(MNQ_STOP_2, ES_STOP_1_A2, btc_stop, fills=(MNQ_LONG_2, ES_SHORT_1_A2, btc))
    # Act
    verdict = rule(portfolio_budget=D("100000")).check(mnq_buy("1", "17900.00"), view, None)
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "currency_mismatch"
    assert verdict.message.startswith("A3 holds BTC-PERP in USDC and this order is in USD")


# -- current_per_trade_risk -----------------------------------------------------------------------------------


def test_current_risk_when_two_positions_then_the_most_exposed_one_as_percent_of_equity() -> None:
    # Arrange: A1 long 2 MNQ stop 17900 (400.00) and short 1 ES @ 5000 stop 5004 (200.00)
    fills = [MNQ_LONG_2, make_fill("f2", "sell", "1", "5000", symbol="ES")]
    es_stop = working("st2", "buy", "1", symbol="ES", stop_price="5004.00")
    view = make_view(fills=fills, orders=[MNQ_STOP_2, es_stop])
    # Act / Assert: 400 / 50000 x 100 = 0.8 %; with fees of 1 per side: (400 + 4) / 50000 x 100 = 0.808 %
    assert current_per_trade_risk(view, "A1") == D("0.8")
    assert current_per_trade_risk(view, "A1", fee_per_contract=D("1")) == D("0.808")


def test_current_risk_when_a_position_was_opened_at_the_cap_then_it_reads_the_cap() -> None:
    # Arrange: long 2 MNQ @ 18000 with its stop at 17750: 250 x 2 x 2 = 1000 = 2 % of 50000
    view = make_view(fills=[MNQ_LONG_2], orders=[working("st1", "sell", "2", stop_price="17750.00")])
    # Act / Assert
    assert current_per_trade_risk(view, "A1") == D("2")


def test_current_risk_when_stops_are_staggered_then_each_closes_its_part() -> None:
    # Arrange: long 2 @ 18000, stops 1 @ 17950 and 1 @ 17900: (36000 - 17950 - 17900) x 2 = 300
    stops = [working("st1", "sell", "1", stop_price="17900.00"), working("st2", "sell", "1", stop_price="17950.00")]
    view = make_view(fills=[MNQ_LONG_2], orders=stops)
    # Act / Assert: 300 / 50000 x 100 = 0.6
    assert current_per_trade_risk(view, "A1") == D("0.6")


def test_current_risk_when_stops_cover_more_than_the_position_then_the_nearest_close_it() -> None:
    # Arrange: long 2, a stop for 2 @ 17950 and a stale one for 2 @ 17900: the nearer fills first
    stops = [working("st1", "sell", "2", stop_price="17900.00"), working("st2", "sell", "2", stop_price="17950.00")]
    view = make_view(fills=[MNQ_LONG_2], orders=stops)
    # Act / Assert: (36000 - 2 x 17950) x 2 = 200 -> 0.4 %
    assert current_per_trade_risk(view, "A1") == D("0.4")


def test_current_risk_when_the_stop_is_a_stop_limit_then_the_worse_limit_counts() -> None:
    # Arrange: sell stop-limit, trigger 17900, limit 17890: (36000 - 2 x 17890) x 2 = 440
    stop_limit = working("st1", "sell", "2", order_type="stop_limit", stop_price="17900.00", price="17890.00")
    view = make_view(fills=[MNQ_LONG_2], orders=[stop_limit])
    # Act / Assert: 440 / 50000 x 100 = 0.88
    assert current_per_trade_risk(view, "A1") == D("0.88")


def test_current_risk_when_the_stop_locks_in_a_profit_then_it_risks_nothing() -> None:
    # Arrange: long 2 @ 18000, stop moved to 18010
    view = make_view(fills=[MNQ_LONG_2], orders=[working("st1", "sell", "2", stop_price="18010.00")])
    # Act / Assert
    assert current_per_trade_risk(view, "A1") == D("0")


def test_current_risk_when_strategies_hold_opposite_sides_then_the_net_position_is_measured() -> None:
    # Arrange: s1 long 2 @ 18000, s2 short 1 @ 18100 -> net long 1 at a cost of 36000 - 18100 = 17900;
    # a sell stop of 1 at 17850 loses (17900 - 17850) x 2 = 100
    fills = [MNQ_LONG_2, make_fill("f2", "sell", "1", "18100", strategy="s2")]
    view = make_view(fills=fills, orders=[working("st1", "sell", "1", stop_price="17850.00")])
    # Act / Assert: 100 / 50000 x 100 = 0.2
    assert current_per_trade_risk(view, "A1") == D("0.2")


def test_current_risk_when_flat_then_zero() -> None:
    # Arrange / Act / Assert
    assert current_per_trade_risk(make_view(), "A1") == D("0")


@pytest.mark.parametrize(
    "view_args",
    [
        {"fills": [MNQ_LONG_2]},  # no working stop
        {"fills": [MNQ_LONG_2], "orders": [MNQ_STOP_2], "accounts": []},  # no snapshot
        {"fills": [MNQ_LONG_2], "orders": [MNQ_STOP_2], "accounts": [account(balance="100", equity="0")]},
    ],
)
def test_current_risk_when_a_stop_or_the_equity_is_missing_then_none(view_args: dict[str, object]) -> None:
    # Arrange
    view = make_view(**view_args)  # type: ignore[arg-type]
    # Act / Assert
    assert current_per_trade_risk(view, "A1") is None


# -- through the engine -----------------------------------------------------------------------------------------


def test_engine_when_the_cap_refuses_an_entry_then_the_exit_is_still_approved() -> None:
    # Arrange: A1 long 2 MNQ with no stop at all
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(MNQ_LONG_2)
    # Act
    entry = engine.check(mnq_buy("2", "17749.75", order_id="o1", ts=at(1)))
    exit_ = engine.check(order("sell", "2", order_type="market", price=None, order_id="o2", ts=at(2)))
    # Assert: the entry risks 250.25 x 2 x 2 = 1001.00 > 1000.00; the exit, with no stop, only reduces
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "risk_limit_exceeded", "per_trade_risk")
    assert exit_.approved is True
    assert exit_.message == "approved: the order only reduces a position"


def test_engine_when_the_venue_reports_the_stop_then_the_budget_counts_it() -> None:
    # Arrange: budget 600; long 2 MNQ, its stop not yet reported
    engine = RiskEngine([rule(portfolio_budget=D("600"))], INSTRUMENTS)
    engine.handle(account())
    engine.handle(MNQ_LONG_2)
    before = engine.check(mnq_buy("1", "17900.00", order_id="o1", ts=at(1)))
    engine.handle(working("st1", "sell", "2", stop_price="17900.00", ts=at(2)))
    # Act
    after = engine.check(mnq_buy("1", "17900.00", order_id="o2", ts=at(3)))
    over = engine.check(mnq_buy("2", "17900.00", order_id="o3", ts=at(4)))
    # Assert: unknown before the stop; then 400 + 100 x 1 x 2 = 600 (the budget), and 400 + 400 = 800 > 600
    assert (before.approved, before.reason_code) == (False, "risk_limit_exceeded")
    assert after.approved is True
    assert (over.approved, over.reason_code) == (False, "risk_limit_exceeded")
    assert "money at risk would be 800.00 USD" in over.message


# -- headroom ---------------------------------------------------------------------------------------------------


def test_per_trade_risk_headroom_when_two_accounts_hold_stopped_positions_then_risk_positions_and_budget_rows() -> None:
    # Arrange: A1 long 2 MNQ @ 18000 stop 17900: (36000 - 35800) x 2 = 400; A2 short 1 ES @ 5000 stop 5004:
    # 4 x 50 = 200; both equities 50000
    view = budget_view(MNQ_STOP_2, ES_STOP_1_A2)
    # Act
    rows = rule(max_concurrent_positions=3, portfolio_budget=D("1000")).headroom(view, None)
    # Assert:
    # A1: 400 / 50000 x 100 = 0.80 % of the 2 % cap -> 40.0 % used; A2: 200 / 50000 x 100 = 0.40 % -> 20.0 %
    # the pool: 2 positions (A1 MNQ, A2 ES) of 3 -> 66.7 %; 400 + 200 = 600 USD of the 1000 budget -> 60.0 %
    assert [(r.rule, r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("per_trade_risk", "risk of the largest open position", Scope(account="A1"), D("0.80"), D(2), "%", D("40.0")),
        ("per_trade_risk", "risk of the largest open position", Scope(account="A2"), D("0.40"), D(2), "%", D("20.0")),
        ("per_trade_risk", "concurrent positions", Scope(), D(2), D(3), "positions", D("66.7")),
        ("per_trade_risk", "money at risk to the stops", Scope(), D(600), D(1000), "USD", D("60.0")),
    ]
    assert rows[3].remaining == D(400)


def test_per_trade_risk_headroom_when_a_position_has_no_stop_then_its_account_and_the_budget_report_nothing() -> None:
    # Arrange: A1's MNQ is stopped (400 at risk), A2's ES short has no working stop: its risk is unknown
    view = budget_view(MNQ_STOP_2)
    # Act
    rows = rule(max_concurrent_positions=2, portfolio_budget=D("1000")).headroom(view, None)
    # Assert: A1 0.80 of 2 % -> 40.0 %; 2 positions of 2 -> 100.0 %; no A2 row and no budget row (the gate refuses)
    assert [(r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("risk of the largest open position", Scope(account="A1"), D("0.80"), D(2), "%", D("40.0")),
        ("concurrent positions", Scope(), D(2), D(2), "positions", D("100.0")),
    ]
