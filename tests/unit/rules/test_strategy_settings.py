"""StrategySettings (seed 000): per strategy + symbol settings, its gate, and its kill switch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pytest

from riskguard.core import (
    ALLOW,
    Action,
    AlertLevel,
    CancelOrder,
    Deny,
    EndLockout,
    InvalidInput,
    LockOut,
    RaiseAlert,
    ResetRequested,
    RiskEngine,
    Scope,
)
from riskguard.core.rules.strategy_settings import (
    StrategySettings,
    StrategySettingsParams,
    StrategySettingsRule,
    StrategySettingsState,
    StrategyStatus,
    strategy_rows,
)
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, booked, make_view, order, working

NAME = "strategy_settings"
D = Decimal
S1_MNQ = Scope(strategy="s1", symbol="MNQ")
WIDE = StrategySettings(margin_leverage=D(100))  # cap 50000 x 1 % x 100 = 50000 USD: MNQ orders fit
KILLED = (
    "Strategy s1 on MNQ is killed: its total PnL -50.00 USD reached the -50.00 USD max strategy loss; its new risk is "
    "refused on every account until an operator resets it"
)


def rule(
    strategies: dict[str, StrategySettings] | None = None,
    *,
    defaults: StrategySettings | None = None,
    unlisted: str = "allow",
) -> StrategySettingsRule:
    return StrategySettingsRule(
        StrategySettingsParams(
            strategies={"s1/MNQ": WIDE} if strategies is None else strategies,
            defaults=defaults or StrategySettings(),
            unlisted=unlisted,  # type: ignore[arg-type]
        )
    )


def state_of(total: str, *, killed: bool = False) -> StrategySettingsState:
    return StrategySettingsState(
        {("s1", "MNQ"): StrategyStatus(D(total), is_killed=killed, killed_at=T0 if killed else None)}
    )


def without_ids(actions: Sequence[Action]) -> list[Action]:
    return [replace(action, id="") for action in actions]


# -- params -------------------------------------------------------------------------------------


def test_params_when_nothing_is_given_then_seed_000_defaults() -> None:
    # Arrange / Act
    defaults = StrategySettingsParams().defaults
    # Assert
    assert (defaults.enabled, defaults.risk_per_trade, defaults.stop_loss_dollars, defaults.max_strategy_loss) == (
        True,
        D(1),
        D(5),
        D(50),
    )
    assert (defaults.margin_leverage, defaults.model_reward) == (D(1), None)


@pytest.mark.parametrize("key", ["s1", "s1/", "/MNQ", "s1/MNQ/x"])
def test_params_when_a_key_is_not_strategy_slash_symbol_then_invalid_input(key: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match="STRATEGY/SYMBOL"):
        rule({key: StrategySettings()})


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (StrategySettings(risk_per_trade=D(0)), "risk_per_trade"),
        (StrategySettings(risk_per_trade=D(101)), "risk_per_trade"),
        (StrategySettings(stop_loss_dollars=D(0)), "stop_loss_dollars"),
        (StrategySettings(max_strategy_loss=D(-50)), "max_strategy_loss"),
        (StrategySettings(margin_leverage=D(0)), "margin_leverage"),
    ],
)
def test_params_when_a_setting_is_out_of_range_then_invalid_input(settings: StrategySettings, field: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule({"s1/MNQ": settings})


# -- the gate -----------------------------------------------------------------------------------


def test_check_when_the_strategy_is_disabled_then_strategy_disabled() -> None:
    # Arrange
    the_rule = rule({"s1/MNQ": replace(WIDE, enabled=False)})
    # Act
    verdict = the_rule.check(order(), make_view(), the_rule.initial_state())
    # Assert
    assert verdict == Deny(
        NAME, "strategy_disabled", "strategy s1 on MNQ is disabled; its new orders are refused until it is enabled"
    )


def test_check_when_the_strategy_is_killed_then_strategy_killed() -> None:
    # Arrange
    the_rule = rule()
    # Act
    verdict = the_rule.check(order(), make_view(), state_of("-50", killed=True))
    # Assert
    assert verdict == Deny(NAME, "strategy_killed", KILLED)


def test_check_when_disabled_and_killed_then_disabled_is_said_first() -> None:
    # Arrange
    the_rule = rule({"s1/MNQ": replace(WIDE, enabled=False)})
    # Act
    verdict = the_rule.check(order(), make_view(), state_of("-50", killed=True))
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "strategy_disabled"


def test_check_when_another_symbol_of_a_killed_strategy_then_it_passes() -> None:
    # Arrange: s1 is killed on MNQ only; s1 on ES has its own (wide) settings
    the_rule = rule({"s1/MNQ": WIDE, "s1/ES": replace(WIDE, margin_leverage=D(1000))})
    # Act
    verdict = the_rule.check(order(symbol="ES", price="5000.00"), make_view(), state_of("-50", killed=True))
    # Assert
    assert verdict is ALLOW


def test_check_when_unlisted_are_refused_then_strategy_unknown() -> None:
    # Arrange
    the_rule = rule(unlisted="refuse")
    # Act
    verdict = the_rule.check(order(strategy="s2"), make_view(), the_rule.initial_state())
    # Assert
    assert verdict == Deny(
        NAME,
        "strategy_unknown",
        "strategy s2 on MNQ has no settings and unlisted strategies are refused; add s2/MNQ to the strategy settings "
        "to trade it",
    )


def test_check_when_unlisted_are_allowed_then_the_defaults_apply() -> None:
    # Arrange: defaults 1 % of 50000 x 1 = 500.00 USD notional; 1 MNQ at 18000.00 is 36000.00
    the_rule = rule()
    # Act
    verdict = the_rule.check(order(strategy="s2"), make_view(), the_rule.initial_state())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "risk_per_trade"
    assert "cap of 500.00 USD (1.00 % of equity 50000.00 USD as margin x 1.00 leverage)" in verdict.message


def test_check_when_the_loss_at_the_stop_is_exactly_the_limit_then_allowed() -> None:
    # Arrange
    the_rule = rule()
    # Act: |18000.00 - 17997.50| x 1 x 2 = 5.00 USD = stop_loss_dollars 5
    verdict = the_rule.check(order(stop_loss="17997.50"), make_view(), the_rule.initial_state())
    # Assert
    assert verdict is ALLOW


def test_check_when_the_loss_at_the_stop_is_over_the_limit_then_stop_loss_dollars() -> None:
    # Arrange
    the_rule = rule()
    # Act: |18000.00 - 17997.25| x 1 x 2 = 5.50 USD > 5
    verdict = the_rule.check(order(stop_loss="17997.25"), make_view(), the_rule.initial_state())
    # Assert
    assert verdict == Deny(
        NAME,
        "stop_loss_dollars",
        "A1's buy of 1 MNQ for strategy s1 would lose 5.50 USD at its stop 17997.25 from the entry 18000.00, over the "
        "strategy's 5.00 USD stop loss per trade; the order is refused",
    )


def test_check_when_a_market_order_has_a_stop_then_the_mark_is_the_entry() -> None:
    # Arrange
    the_rule = rule()
    view = make_view(marks={"MNQ": "18001.00"})
    market = order(order_type="market", price=None, stop_loss="17998.00")
    # Act: |18001.00 - 17998.00| x 1 x 2 = 6.00 USD > 5
    verdict = the_rule.check(market, view, the_rule.initial_state())
    # Assert
    assert isinstance(verdict, Deny)
    assert (verdict.code, "lose 6.00 USD" in verdict.message) == ("stop_loss_dollars", True)


def test_check_when_the_notional_is_exactly_the_cap_then_allowed() -> None:
    # Arrange: 1 % of 50000 = 500.00 USD margin x 72 = 36000.00 USD notional cap
    the_rule = rule({"s1/MNQ": StrategySettings(margin_leverage=D(72))})
    # Act: 1 x 18000.00 x 2 = 36000.00
    verdict = the_rule.check(order(), make_view(), the_rule.initial_state())
    # Assert
    assert verdict is ALLOW


def test_check_when_the_notional_is_over_the_cap_then_risk_per_trade() -> None:
    # Arrange: cap 36000.00 USD as above
    the_rule = rule({"s1/MNQ": StrategySettings(margin_leverage=D(72))})
    # Act: 1 x 18000.25 x 2 = 36000.50 > 36000.00
    verdict = the_rule.check(order(price="18000.25"), make_view(), the_rule.initial_state())
    # Assert
    assert verdict == Deny(
        NAME,
        "risk_per_trade",
        "A1's buy of 1 MNQ for strategy s1 is 36000.50 USD notional at 18000.25, over the strategy's cap of "
        "36000.00 USD (1.00 % of equity 50000.00 USD as margin x 72.00 leverage); the order is refused",
    )


def test_check_when_no_account_update_then_account_unknown() -> None:
    # Arrange
    the_rule = rule()
    # Act
    verdict = the_rule.check(order(), make_view(accounts=()), the_rule.initial_state())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "account_unknown"


def test_check_when_a_market_order_has_no_mark_then_price_unknown() -> None:
    # Arrange
    the_rule = rule()
    # Act
    verdict = the_rule.check(order(order_type="market", price=None), make_view(), the_rule.initial_state())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "price_unknown"


def test_check_when_equity_is_in_another_currency_then_currency_mismatch() -> None:
    # Arrange: BTC-PERP is valued in USDC, the account in USD
    the_rule = rule({"s1/BTC-PERP": WIDE})
    # Act
    verdict = the_rule.check(order(symbol="BTC-PERP", price="60000.0"), make_view(), the_rule.initial_state())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "currency_mismatch"


# -- the kill switch ----------------------------------------------------------------------------


def test_react_when_total_pnl_is_just_above_the_limit_then_nothing() -> None:
    # Arrange
    the_rule = rule()
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00")])
    # Act: sell 1 at 17975.25: (17975.25 - 18000.00) x 1 x 2 = -49.50 > -50
    state, actions = the_rule.react(
        booked(view, make_fill("f2", "sell", "1", "17975.25")), view, the_rule.initial_state()
    )
    # Assert
    assert actions == ()
    assert state == state_of("-49.50")


def test_react_when_fees_bring_total_pnl_to_exactly_the_limit_then_the_strategy_is_killed() -> None:
    # Arrange: -49.50 so far
    the_rule = rule()
    view = make_view()
    view.now = at(10)
    # Act: an opening buy with a 0.50 fee realizes -0.50: -49.50 - 0.50 = -50.00, reaching -50
    state, actions = the_rule.react(
        booked(view, make_fill("f3", "buy", "1", "18000.00", fee="0.50", seconds=10)), view, state_of("-49.50")
    )
    # Assert
    assert without_ids(actions) == [
        RaiseAlert(rule=NAME, reason=KILLED, level=AlertLevel.CRITICAL),
        LockOut(rule=NAME, reason=KILLED, scope=S1_MNQ, until=None, code="strategy_killed"),
    ]
    assert state == StrategySettingsState({("s1", "MNQ"): StrategyStatus(D("-50.00"), True, at(10))})


def test_react_when_killed_then_adding_orders_on_every_account_are_cancelled_and_stops_kept() -> None:
    # Arrange: s1 holds 2 MNQ long on A1, -49.00 so far
    the_rule = rule()
    orders = [
        working("stop1", "sell", "1"),  # s1's protective stop on A1: kept
        working("w1", "buy", "1", order_type="limit", stop_price=None, price="17990.00"),  # adds on A1
        working("w2", "buy", "1", order_type="limit", stop_price=None, price="17990.00", account_id="A2"),
        working("w3", "buy", "1", order_type="limit", stop_price=None, price="17990.00", strategy="s2"),
        working("w4", "buy", "1", order_type="limit", stop_price=None, price="4990.00", symbol="ES"),
    ]
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000.00")], orders=orders)
    # Act: sell 1 at 17999.50: -0.50 x 1 x 2 = -1.00; -49.00 - 1.00 = -50.00; A1 still holds 1 long
    _, actions = the_rule.react(booked(view, make_fill("f2", "sell", "1", "17999.50")), view, state_of("-49"))
    # Assert: w1 (A1) and w2 (A2) are s1's adding MNQ orders; stop1 closes, w3 is s2's, w4 is ES
    assert without_ids(actions) == [
        RaiseAlert(rule=NAME, reason=KILLED, level=AlertLevel.CRITICAL),
        CancelOrder(rule=NAME, reason=KILLED, account="A1", order_id="w1", symbol="MNQ"),
        CancelOrder(rule=NAME, reason=KILLED, account="A2", order_id="w2", symbol="MNQ"),
        LockOut(rule=NAME, reason=KILLED, scope=S1_MNQ, until=None, code="strategy_killed"),
    ]


def test_react_when_already_killed_then_further_losses_add_up_but_fire_nothing() -> None:
    # Arrange
    the_rule = rule()
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00")])
    # Act: -10 x 1 x 2 = -20.00 more
    state, actions = the_rule.react(
        booked(view, make_fill("f2", "sell", "1", "17990.00")), view, state_of("-50", killed=True)
    )
    # Assert: -50 - 20 = -70
    assert actions == ()
    assert state == state_of("-70.00", killed=True)


def test_react_when_strategies_share_a_symbol_then_each_has_its_own_total() -> None:
    # Arrange
    the_rule = rule()
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00", strategy="s2")])
    # Act: s2 loses 60.00 (-30 x 2); s1 untouched
    state, actions = the_rule.react(
        booked(view, make_fill("f2", "sell", "1", "17970.00", strategy="s2")), view, state_of("-49")
    )
    # Assert: s2 (unlisted, defaults: 50) is killed; s1 stays at -49
    assert [action.name for action in actions] == ["alert", "lock_out"]
    assert state.strategies[("s1", "MNQ")] == StrategyStatus(D(-49))
    assert state.strategies[("s2", "MNQ")].is_killed is True


@pytest.mark.parametrize(
    "command",
    [
        ResetRequested("ops", "reviewed", at(60), scope=S1_MNQ),
        ResetRequested("ops", "reviewed", at(60), scope=Scope(strategy="s1"), rule=NAME),
        ResetRequested("ops", "reviewed", at(60)),
    ],
)
def test_reset_when_it_covers_the_strategy_then_the_kill_clears_and_total_pnl_is_zeroed(
    command: ResetRequested,
) -> None:
    # Arrange
    the_rule = rule()
    # Act
    state, actions = the_rule.react(command, make_view(at(60)), state_of("-62.50", killed=True))
    # Assert
    assert actions == ()
    assert state == StrategySettingsState({("s1", "MNQ"): StrategyStatus()})


@pytest.mark.parametrize(
    "command",
    [
        ResetRequested("ops", "reviewed", at(60), scope=Scope(account="A1", strategy="s1", symbol="MNQ")),
        ResetRequested("ops", "reviewed", at(60), scope=Scope(strategy="s2")),
        ResetRequested("ops", "reviewed", at(60), scope=Scope(symbol="ES")),
        ResetRequested("ops", "reviewed", at(60), rule="circuit_breaker"),
    ],
)
def test_reset_when_aimed_elsewhere_then_state_is_unchanged(command: ResetRequested) -> None:
    # Arrange: a reset of one account does not cover the kill of every account (nor its lockout)
    the_rule = rule()
    before = state_of("-62.50", killed=True)
    # Act
    state, _ = the_rule.react(command, make_view(at(60)), before)
    # Assert
    assert state is before


def test_strategy_rows_when_asked_then_seed_000_fields_per_configured_strategy() -> None:
    # Arrange
    params = StrategySettingsParams(
        strategies={
            "s1/MNQ": StrategySettings(model_reward=D("812.5")),
            "trend-1/BTC-PERP": StrategySettings(enabled=False, risk_per_trade=D(2)),
        }
    )
    # Act
    rows = strategy_rows(params, state_of("-50", killed=True))
    # Assert
    assert rows == [
        {
            "strategy_id": "s1",
            "symbol": "MNQ",
            "enabled": True,
            "risk_per_trade": D(1),
            "stop_loss_dollars": D(5),
            "max_strategy_loss": D(50),
            "is_killed": True,
            "total_pnl": D(-50),
            "model_reward": D("812.5"),
        },
        {
            "strategy_id": "trend-1",
            "symbol": "BTC-PERP",
            "enabled": False,
            "risk_per_trade": D(2),
            "stop_loss_dollars": D(5),
            "max_strategy_loss": D(50),
            "is_killed": False,
            "total_pnl": D(0),
            "model_reward": None,
        },
    ]


# -- through the engine -------------------------------------------------------------------------


def test_engine_when_a_strategy_is_killed_then_its_entries_stop_while_others_and_exits_pass_until_reset() -> None:
    # Arrange
    the_rule = rule({"s1/MNQ": WIDE, "s2/MNQ": WIDE})
    engine = RiskEngine([the_rule], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "2", "18000.00", seconds=1))
    # Act: sell 1 at 17975.00: (17975.00 - 18000.00) x 1 x 2 = -50.00, reaching -50
    killed = engine.handle(make_fill("f2", "sell", "1", "17975.00", seconds=2))
    entry = engine.check(order(order_id="o1", ts=at(3)))
    other = engine.check(order(strategy="s2", order_id="o2", ts=at(4)))
    exit_ = engine.check(order("sell", "1", order_id="o3", ts=at(5)))
    reset = engine.handle(ResetRequested("ops", "model retrained", at(6), scope=S1_MNQ))
    after = engine.check(order(order_id="o4", ts=at(7)))
    # Assert
    assert without_ids(killed) == [
        RaiseAlert(rule=NAME, reason=KILLED, level=AlertLevel.CRITICAL),
        LockOut(rule=NAME, reason=KILLED, scope=S1_MNQ, until=None, code="strategy_killed"),
    ]
    assert (entry.approved, entry.reason_code, entry.rule, entry.message) == (False, "strategy_killed", NAME, KILLED)
    assert other.approved is True
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
    assert [action.name for action in reset] == ["end_lockout"]
    assert isinstance(reset[0], EndLockout)
    assert after.approved is True
    assert engine.states[NAME] == StrategySettingsState({("s1", "MNQ"): StrategyStatus()})


# -- headroom -----------------------------------------------------------------------------------


def test_strategy_settings_headroom_when_strategies_lost_then_total_pnl_against_each_kill_per_strategy_symbol() -> None:
    # Arrange: s1/MNQ listed (kill at -50), s2/ES listed (kill at -200) and untraded, s9 unlisted (defaults: -50)
    the_rule = rule({"s1/MNQ": WIDE, "s2/ES": StrategySettings(max_strategy_loss=D(200))})
    view = make_view(
        fills=[
            make_fill("f1", "buy", "1", "18000.00"),
            make_fill("f2", "buy", "1", "5000.00", symbol="ES", strategy="s9"),
        ]
    )
    state = the_rule.initial_state()
    state, _ = the_rule.react(booked(view, make_fill("f3", "sell", "1", "17985.00")), view, state)
    state, _ = the_rule.react(
        booked(view, make_fill("f4", "sell", "1", "4999.75", symbol="ES", strategy="s9")), view, state
    )
    # Act
    rows = the_rule.headroom(view, state)
    # Assert:
    # s1/MNQ: (17985 - 18000) x 1 x 2 = -30.00 of -50 USD -> 60.0 %
    # s2/ES: nothing traded, 0 of -200 USD -> 0.0 %
    # s9/ES (after the listed ones): (4999.75 - 5000) x 1 x 50 = -12.50 of -50 USD -> 25.0 %
    assert [(r.rule, r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        (NAME, "strategy total pnl", S1_MNQ, D("-30.00"), D(-50), "USD", D("60.0")),
        (NAME, "strategy total pnl", Scope(strategy="s2", symbol="ES"), D(0), D(-200), "USD", D("0.0")),
        (NAME, "strategy total pnl", Scope(strategy="s9", symbol="ES"), D("-12.50"), D(-50), "USD", D("25.0")),
    ]


def test_strategy_settings_headroom_when_killed_and_still_losing_then_past_the_limit() -> None:
    # Arrange: killed at -50, then -20 more
    the_rule = rule()
    # Act
    (row,) = the_rule.headroom(make_view(), state_of("-70", killed=True))
    # Assert: -70 of -50 USD = 140.0 %, 20 USD past it
    assert (row.scope, row.value, row.limit, row.unit) == (S1_MNQ, D(-70), D(-50), "USD")
    assert (row.used_pct, row.remaining) == (D("140.0"), D(20))
