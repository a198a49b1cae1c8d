"""TrailingStop: seed 002's stops by strategy type (initial, %-trailing, tightening increment, exit
on a crossing mark), the per-type limits at the gate, and the _trailing helpers it adds.

MNQ ticks are 0.25 points (point value 2 USD); BTC-PERP ticks 0.1 (point value 1 USDC).
Profiles (initial / activation / distance / tightening %): trend_following 1 / 1 / 0.5 / 0.2,
htf 2 / 1.5 / 1 / 0.5.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

import pytest

from riskguard.core import (
    ALLOW,
    AccountSnapshot,
    AccountView,
    Action,
    AlertLevel,
    ClosePosition,
    Deny,
    Fill,
    FillBooked,
    Instrument,
    InvalidInput,
    MarkUpdated,
    PositionSide,
    Price,
    RiskEngine,
    Scope,
    Side,
    WorkingOrders,
)
from riskguard.core.rules._trailing import (
    best_price,
    closing_side,
    improves_by,
    pct_from,
    price_text,
    stop_hit,
    working_stop,
)
from riskguard.core.rules.trailing_stop import (
    DEFAULT_PROFILES,
    TrailedStop,
    TrailingProfile,
    TrailingStop,
    TrailingStopParams,
    TrailingStopState,
)
from riskguard.testing.factories import T0
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order, working

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
TYPES = {"t1": "trend_following", "h1": "htf", "arb": "arbitrage"}
ETH_PERP = Instrument("ETH-PERP", D("0.01"), D(1), "USDC", D("0.0001"))


def rule(strategy_types: dict[str, str] | None = None, **profiles: TrailingProfile) -> TrailingStop:
    return TrailingStop(TrailingStopParams(strategy_types=strategy_types or TYPES, profiles=profiles))


def fill(
    fill_id: str,
    side: str,
    price: str,
    *,
    qty: str = "1",
    strategy: str = "t1",
    symbol: str = "MNQ",
    seconds: float = 0,
) -> Fill:
    return Fill(fill_id, f"o-{fill_id}", "A1", strategy, symbol, side, qty, price, at(seconds))  # type: ignore[arg-type]


def opened(
    manager: TrailingStop, *fills: Fill, orders: tuple[Any, ...] = ()
) -> tuple[AccountView, TrailingStopState, list[Action]]:
    """A view with the working `orders`, each fill booked and fed to the rule in turn; the last fill's actions."""
    view = make_view(T0, orders=orders)
    state, actions = manager.initial_state(), []
    for each in fills:
        view.now = each.ts
        state, produced = manager.react(FillBooked(each, view.ledger.apply(each)), view, state)
        actions = list(produced)
    return view, state, actions


def marks(
    manager: TrailingStop, view: AccountView, prices: list[str], state: TrailingStopState, symbol: str = "MNQ"
) -> tuple[TrailingStopState, list[list[Action]]]:
    """Feed marks one after the other (a second apart), recording each in the view's ledger first."""
    produced = []
    for n, price in enumerate(prices):
        event = MarkUpdated(symbol, price, at(10 + n))  # type: ignore[arg-type]
        view.now = event.ts
        view.ledger.mark(event.symbol, event.price, event.ts)
        state, actions = manager.react(event, view, state)
        produced.append(list(actions))
    return state, produced


def fields(action: Action) -> tuple[str, dict[str, Any]]:
    return type(action).__name__, {k: v for k, v in asdict(action).items() if k not in ("id", "reason")}


def move(stop: str, order_id: str | None = None, symbol: str = "MNQ") -> tuple[str, dict[str, Any]]:
    return (
        "MoveStop",
        {"rule": "trailing_stop", "account": "A1", "symbol": symbol, "stop_price": D(stop), "order_id": order_id},
    )


def close(symbol: str = "MNQ") -> tuple[str, dict[str, Any]]:
    return "ClosePosition", {"rule": "trailing_stop", "account": "A1", "symbol": symbol}


# -- opening: the initial stop ---------------------------------------------------------------------


def test_react_when_trend_position_opens_then_initial_stop_one_pct_below_entry_is_placed() -> None:
    # Arrange / Act: long 1 at 18000.00: 18000.00 x 0.99 = 17820.00, no working stop: place one
    _, state, actions = opened(rule(), fill("f1", "buy", "18000.00"))
    # Assert
    assert [fields(a) for a in actions] == [move("17820.00")]
    assert actions[0].reason == (
        "t1's MNQ long on A1 opened at 18000.00 (trend_following): initial stop at 17820.00, 1 % from the entry"
    )
    assert state == TrailingStopState({("A1", "t1", "MNQ"): TrailedStop(LONG, D("18000.00"), D("17820.00"), "initial")})


@pytest.mark.parametrize(
    ("strategy", "side", "price", "stop"),
    [
        # 18000.25 x 0.99 = 17820.2475, floored (loss side of a long) = 17820.00
        ("t1", "buy", "18000.25", "17820.00"),
        # 18000.25 x 1.01 = 18180.2525, ceiled (loss side of a short) = 18180.50
        ("t1", "sell", "18000.25", "18180.50"),
        # htf: 18000.00 x 0.98 = 17640.00; short 18000.00 x 1.02 = 18360.00
        ("h1", "buy", "18000.00", "17640.00"),
        ("h1", "sell", "18000.00", "18360.00"),
    ],
)
def test_react_when_position_opens_then_initial_stop_is_rounded_toward_the_loss_side(
    strategy: str, side: str, price: str, stop: str
) -> None:
    # Act
    _, _, actions = opened(rule(), fill("f1", side, price, strategy=strategy))
    # Assert
    assert [fields(a) for a in actions] == [move(stop)]


def test_react_when_the_strategy_has_a_working_stop_then_it_is_the_one_moved() -> None:
    # Arrange: the strategy's sell stop at 17700.00 (looser than 17820.00); another strategy's stop is not its own
    orders = (
        working("other", "sell", "1", stop_price="17990.00", strategy="s9"),
        working("stop1", "sell", "1", stop_price="17700.00", strategy="t1"),
    )
    # Act
    _, state, actions = opened(rule(), fill("f1", "buy", "18000.00"), orders=orders)
    # Assert
    assert [fields(a) for a in actions] == [move("17820.00", "stop1")]
    assert state.positions[("A1", "t1", "MNQ")].stop == D("17820.00")


def test_react_when_working_stop_already_tighter_than_the_initial_stop_then_it_is_kept() -> None:
    # Arrange: the trader's stop at 17900.00 is above 17820.00: moving it would loosen it
    orders = (working("stop1", "sell", "1", stop_price="17900.00", strategy="t1"),)
    # Act
    _, state, actions = opened(rule(), fill("f1", "buy", "18000.00"), orders=orders)
    # Assert
    assert actions == []
    assert state.positions[("A1", "t1", "MNQ")] == TrailedStop(LONG, D("18000.00"), D("17900.00"), "working")


def test_react_when_strategy_has_no_type_or_no_stop_then_nothing() -> None:
    # Arrange: s9 has no type; arbitrage's built-in profile has limits only
    manager = rule()
    # Act
    view, state, untyped = opened(manager, fill("f1", "buy", "18000.00", strategy="s9"))
    _, state_arb, arbitrage = opened(manager, fill("f2", "buy", "18000.00", strategy="arb"))
    after, produced = marks(manager, view, ["18500.00", "17000.00"], state)
    # Assert
    assert (state, untyped, arbitrage, produced, after) == (TrailingStopState(), [], [], [[], []], state)
    assert state_arb.positions[("A1", "arb", "MNQ")].stop is None


# -- trailing, tightening, never loosening ------------------------------------------------------------


def test_react_when_trend_profit_reaches_activation_then_stop_trails_and_tightens_by_the_increment() -> None:
    # Arrange: long 1 at 18000.00, initial stop 17820.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    # Act
    state, produced = marks(manager, view, ["18179.75", "18180.00", "18200.00", "18230.00", "18150.00"], state)
    # Assert:
    # 18179.75: (179.75 / 18000) = 0.9986 % < 1 %: not active
    # 18180.00: exactly 1 %: trail 18180 x 0.995 = 18089.10, floored = 18089.00 (269.00 over 17820.00 >= 36.36)
    # 18200.00: trail 18109.00, only 20.00 over 18089.00 < 0.2 % x 18200 = 36.40: not moved
    # 18230.00: trail 18138.85 -> 18138.75, 49.75 over 18089.00 >= 36.46: moved
    # 18150.00: the best stays 18230.00: nothing (the stop never loosens)
    assert [[fields(a) for a in actions] for actions in produced] == [
        [],
        [move("18089.00")],
        [],
        [move("18138.75")],
        [],
    ]
    assert produced[1][0].reason == (
        "t1's MNQ long on A1 is 1.00 % in profit (entry 18000.00, best 18180.00; trend_following): "
        "trailing stop moved to 18089.00, 0.5 % behind the best price"
    )
    assert state.positions[("A1", "t1", "MNQ")] == TrailedStop(
        LONG, D("18230.00"), D("18138.75"), "trailing", active=True
    )


def test_react_when_htf_trails_then_its_wider_profile_applies_and_the_exit_says_htf() -> None:
    # Arrange: long 1 at 18000.00, initial stop 18000 x 0.98 = 17640.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00", strategy="h1"))
    # Act
    state, produced = marks(manager, view, ["18269.75", "18270.00", "18300.00", "18400.00", "18216.00"], state)
    # Assert:
    # 18269.75: 1.4986 % < 1.5 %: not active
    # 18270.00: exactly 1.5 %: trail 18270 x 0.99 = 18087.30, floored = 18087.25
    # 18300.00: trail 18117.00, 29.75 over 18087.25 < 0.5 % x 18300 = 91.50: not moved
    # 18400.00: trail 18216.00, 128.75 over 18087.25 >= 92.00: moved
    # 18216.00: the mark is at the stop: exit
    assert [[fields(a) for a in actions] for actions in produced] == [
        [],
        [move("18087.25")],
        [],
        [move("18216.00")],
        [close()],
    ]
    assert produced[4][0].reason == "trailing stop 18216.00 hit at 18216.00 (htf): h1's MNQ long on A1 is closed"


def test_react_when_tightening_reaches_the_increment_exactly_then_the_stop_moves() -> None:
    # Arrange: a profile trailing 1 % from 1 % of profit, moved by at least 1 % of the best price; no initial stop
    custom = TrailingProfile(activation_pct=D(1), distance_pct=D(1), tightening_pct=D(1))
    manager = rule({"t1": "custom"}, custom=custom)
    view, state, actions = opened(manager, fill("f1", "buy", "9700.00"))
    # Act
    state, produced = marks(manager, view, ["9800.00", "9899.75", "9900.00"], state)
    # Assert:
    # 9800.00: 100 / 9700 = 1.03 %: trail 9800 x 0.99 = 9702.00 (no stop before: any stop improves)
    # 9899.75: trail 9800.7525 -> 9800.75, 98.75 over 9702.00 < 1 % x 9899.75 = 98.9975: not moved
    # 9900.00: trail 9801.00, 99.00 over 9702.00 = 1 % x 9900 = 99.00: reaching the increment counts
    assert actions == []
    assert [[fields(a) for a in each] for each in produced] == [[move("9702.00")], [], [move("9801.00")]]


def test_react_when_short_trails_then_stop_is_above_the_best_price_ceiled_to_the_grid() -> None:
    # Arrange: short 1 at 18000.00, initial stop 18180.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "sell", "18000.00"))
    # Act
    state, produced = marks(manager, view, ["17820.00", "17830.00", "17909.25"], state)
    # Assert:
    # 17820.00: exactly 1 % in profit: trail 17820 x 1.005 = 17909.10, ceiled = 17909.25
    # 17830.00: against the short: the stop stays
    # 17909.25: at the stop: exit
    assert [[fields(a) for a in each] for each in produced] == [[move("17909.25")], [], [close()]]
    assert produced[2][0].reason == (
        "trailing stop 17909.25 hit at 17909.25 (trend_following): t1's MNQ short on A1 is closed"
    )


def test_react_when_the_venue_reports_the_moved_stop_then_it_is_moved_on_that_order() -> None:
    # Arrange: long at 18000.00; the venue's stop1 carries the initial 17820.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    view.orders.update(working("stop1", "sell", "1", stop_price="17820.00", strategy="t1", ts=at(1)))
    # Act
    _, produced = marks(manager, view, ["18180.00"], state)
    # Assert
    assert [fields(a) for a in produced[0]] == [move("18089.00", "stop1")]


# -- the exit ------------------------------------------------------------------------------------------


def test_react_when_mark_crosses_the_trailing_stop_then_close_once_and_reset_on_the_close_fill() -> None:
    # Arrange: long 1 at 18000.00, trailed to 18089.00 at 18180.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    state, _ = marks(manager, view, ["18180.00"], state)
    # Act: 18089.25 rests above the stop; 18088.75 is through it; 18000.00 comes before the close fills
    state, produced = marks(manager, view, ["18089.25", "18088.75", "18000.00"], state)
    exited = state.positions[("A1", "t1", "MNQ")]
    done = fill("f2", "sell", "17999.00", seconds=30)
    view.now = done.ts
    after, on_close = manager.react(FillBooked(done, view.ledger.apply(done)), view, state)
    # Assert
    assert [[fields(a) for a in each] for each in produced] == [[], [close()], []]
    assert produced[1][0].reason == (
        "trailing stop 18089.00 hit at 18088.75 (trend_following): t1's MNQ long on A1 is closed"
    )
    assert (exited.exited, exited.stop, exited.kind) == (True, D("18089.00"), "trailing")
    assert (after, list(on_close)) == (TrailingStopState(), [])


def test_react_when_mark_reaches_the_initial_stop_before_activation_then_the_exit_says_so() -> None:
    # Arrange: long 1 at 18000.00, initial stop 17820.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    # Act
    _, produced = marks(manager, view, ["17820.25", "17820.00"], state)
    # Assert
    assert [[fields(a) for a in each] for each in produced] == [[], [close()]]
    assert produced[1][0].reason == (
        "initial stop 17820.00 hit at 17820.00 (trend_following): t1's MNQ long on A1 is closed"
    )


def test_react_when_the_traders_working_stop_is_tighter_then_it_is_the_stop_watched() -> None:
    # Arrange: initial 17820.00 asked, then the trader moves the stop up to 17950.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    view.orders.update(working("stop1", "sell", "1", stop_price="17950.00", strategy="t1", ts=at(1)))
    # Act
    state, produced = marks(manager, view, ["17950.25", "17950.00"], state)
    # Assert
    assert [[fields(a) for a in each] for each in produced] == [[], [close()]]
    assert produced[1][0].reason.startswith("working stop 17950.00 hit at 17950.00 (trend_following)")


def test_react_when_a_fixed_stop_profile_then_it_never_trails_and_exits_at_its_stop() -> None:
    # Arrange: arbitrage given a 0.5 % fixed stop: 18000.00 x 0.995 = 17910.00
    manager = rule(arbitrage=TrailingProfile(initial_stop_pct=D("0.5"), max_position_pct=D(5)))
    view, state, actions = opened(manager, fill("f1", "buy", "18000.00", strategy="arb"))
    # Act
    _, produced = marks(manager, view, ["18500.00", "17910.00"], state)
    # Assert
    assert [fields(a) for a in actions] == [move("17910.00")]
    assert actions[0].reason.endswith("(arbitrage): fixed stop at 17910.00, 0.5 % from the entry")
    assert [[fields(a) for a in each] for each in produced] == [[], [close()]]
    assert produced[1][0].reason.startswith("fixed stop 17910.00 hit at 17910.00 (arbitrage)")


def test_react_when_other_strategies_hold_more_on_the_same_side_then_only_the_strategys_share_is_closed() -> None:
    # Arrange: t1 long 1 at 18000.00, an untyped strategy long 2 more: the account is long 3
    manager = rule()
    view, state, _ = opened(
        manager, fill("f1", "buy", "18000.00"), fill("f2", "buy", "18000.00", qty="2", strategy="s9")
    )
    # Act
    _, produced = marks(manager, view, ["17820.00"], state)
    # Assert
    assert [fields(a) for a in produced[0]] == [
        ("ReducePosition", {"rule": "trailing_stop", "account": "A1", "symbol": "MNQ", "qty": D("1")})
    ]
    assert produced[0][0].reason.endswith("is closed, 1 of the account's 3; the other strategies keep theirs")


def test_react_when_the_accounts_net_position_is_on_the_other_side_then_a_warning_instead_of_a_close() -> None:
    # Arrange: t1 long 1, an untyped strategy short 2: the account is short 1, nothing of t1's long to sell
    manager = rule()
    view, state, _ = opened(
        manager, fill("f1", "buy", "18000.00"), fill("f2", "sell", "18000.00", qty="2", strategy="s9")
    )
    # Act
    _, produced = marks(manager, view, ["17820.00"], state)
    # Assert
    (alert,) = produced[0]
    assert (type(alert).__name__, getattr(alert, "level", None)) == ("RaiseAlert", AlertLevel.WARNING)
    assert "net MNQ position is -1, so there is nothing to reduce" in alert.reason


# -- flips, memory, other events -------------------------------------------------------------------------


def test_react_when_position_flips_then_the_new_side_gets_its_own_initial_stop() -> None:
    # Arrange: long 1 at 18000.00 trailed to 18089.00; sell 2 at 18100.00 leaves short 1 at 18100.00
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    state, _ = marks(manager, view, ["18180.00"], state)
    flip = fill("f2", "sell", "18100.00", qty="2", seconds=30)
    view.now = flip.ts
    # Act: 18100.00 x 1.01 = 18281.00
    after, actions = manager.react(FillBooked(flip, view.ledger.apply(flip)), view, state)
    # Assert
    assert [fields(a) for a in actions] == [move("18281.00")]
    assert after.positions[("A1", "t1", "MNQ")] == TrailedStop(SHORT, D("18100.00"), D("18281.00"), "initial")


def test_react_when_a_position_is_first_seen_on_a_mark_then_it_is_taken_up_as_opened() -> None:
    # Arrange: the ledger holds t1 long 1 at 18000.00 the rule never saw open
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")])
    # Act
    state, produced = marks(manager, view, ["18010.00"], manager.initial_state())
    # Assert
    assert [fields(a) for a in produced[0]] == [move("17820.00")]
    assert state.positions[("A1", "t1", "MNQ")] == TrailedStop(LONG, D("18010.00"), D("17820.00"), "initial")


def test_react_when_a_fill_adds_to_the_position_then_the_stop_is_kept() -> None:
    # Arrange / Act: long 1 at 18000.00, then 1 more at 18010.00
    _, state, actions = opened(rule(), fill("f1", "buy", "18000.00"), fill("f2", "buy", "18010.00", seconds=1))
    # Assert
    assert actions == []
    assert state.positions[("A1", "t1", "MNQ")].stop == D("17820.00")


def test_react_when_other_events_then_nothing() -> None:
    # Arrange
    manager = rule()
    view, state, _ = opened(manager, fill("f1", "buy", "18000.00"))
    # Act
    after, actions = manager.react(account(ts=at(5)), view, state)
    # Assert
    assert (after, actions) == (state, ())


# -- params ------------------------------------------------------------------------------------------------


def test_params_when_defaults_then_seed_002_profiles_are_built_in() -> None:
    # Act
    trend, htf = DEFAULT_PROFILES["trend_following"], DEFAULT_PROFILES["htf"]
    # Assert
    assert (trend.initial_stop_pct, trend.activation_pct, trend.distance_pct, trend.tightening_pct) == (
        D(1),
        D(1),
        D("0.5"),
        D("0.2"),
    )
    assert (htf.initial_stop_pct, htf.activation_pct, htf.distance_pct, htf.tightening_pct) == (
        D(2),
        D("1.5"),
        D(1),
        D("0.5"),
    )
    assert (trend.max_position_pct, trend.max_leverage, htf.max_position_pct, htf.max_leverage) == (
        D(15),
        D("1.2"),
        D(20),
        D("1.0"),
    )
    assert [DEFAULT_PROFILES[t].max_position_pct for t in ("arbitrage", "market_making", "news_driven")] == [
        D(5),
        D(8),
        D(12),
    ]


@pytest.mark.parametrize(
    ("strategy_types", "profiles", "field_name"),
    [
        ({}, {}, "strategy_types"),
        ({"t1": "scalping"}, {}, "strategy_types.t1"),
        ({"t1": "x"}, {"x": TrailingProfile(initial_stop_pct=D(0))}, "profiles.x.initial_stop_pct"),
        ({"t1": "x"}, {"x": TrailingProfile(initial_stop_pct=D(100))}, "profiles.x.initial_stop_pct"),
        ({"t1": "x"}, {"x": TrailingProfile(activation_pct=D(1), distance_pct=D(0))}, "profiles.x.distance_pct"),
        ({"t1": "x"}, {"x": TrailingProfile(activation_pct=D(1))}, "profiles.x.distance_pct"),
        ({"t1": "x"}, {"x": TrailingProfile(tightening_pct=D(1))}, "profiles.x.tightening_pct"),
        ({"t1": "x"}, {"x": TrailingProfile(max_position_pct=D(-1))}, "profiles.x.max_position_pct"),
    ],
)
def test_params_when_invalid_then_refused_naming_the_field(
    strategy_types: dict[str, str], profiles: dict[str, TrailingProfile], field_name: str
) -> None:
    # Act
    with pytest.raises(InvalidInput) as raised:
        TrailingStop(TrailingStopParams(strategy_types=strategy_types, profiles=profiles))
    # Assert
    assert raised.value.field == field_name


# -- the gate: per-type limits ---------------------------------------------------------------------------------


def usdc(equity: str = "10000") -> AccountSnapshot:
    return AccountSnapshot("A1", D(equity), D(equity), T0, currency="USDC")


def btc(side: str, qty: str, price: str | None = "100000.0", strategy: str = "t1", **extra: Any) -> Any:
    order_type = "limit" if price is not None else "market"
    return order(side, qty, symbol="BTC-PERP", price=price, strategy=strategy, order_type=order_type, **extra)


@pytest.mark.parametrize(
    ("qty", "allowed"),
    [
        # trend_following: 15 % of 10000 = 1500 USDC; 0.015 x 100000.0 = 1500.00 (exactly the limit)
        ("0.015", True),
        # 0.01501 x 100000.0 = 1501.00
        ("0.01501", False),
    ],
)
def test_check_when_position_value_at_or_over_max_position_pct_then_allowed_or_refused(qty: str, allowed: bool) -> None:
    # Arrange
    view = make_view(T0, accounts=[usdc()])
    # Act
    verdict = rule().check(btc("buy", qty), view, TrailingStopState())
    # Assert
    if allowed:
        assert verdict == ALLOW
    else:
        assert verdict == Deny(
            "trailing_stop",
            "max_position_pct",
            "t1's BTC-PERP position on A1 would be worth 1501.00 USDC after this order, over the 15.00 % of equity "
            "limit for trend_following (1500.00 USDC of 10000.00 USDC); the order is refused",
        )


def test_check_when_the_strategy_already_holds_then_the_position_after_the_order_counts() -> None:
    # Arrange: t1 long 0.01 BTC; another strategy's BTC does not count toward t1's position
    view = make_view(
        T0,
        accounts=[usdc()],
        fills=[
            fill("f1", "buy", "100000.0", qty="0.01", symbol="BTC-PERP"),
            fill("f2", "buy", "100000.0", qty="0.02", symbol="BTC-PERP", strategy="s9"),
        ],
    )
    manager = rule({"t1": "trend_following"})
    # Act: (0.01 + 0.005) x 100000.0 = 1500.00 allowed; + 0.00501 = 1501.00 refused
    at_limit = manager.check(btc("buy", "0.005"), view, TrailingStopState())
    over = manager.check(btc("buy", "0.00501"), view, TrailingStopState())
    # Assert: leverage 1.2 x 10000 = 12000 is far: (0.03 + 0.005) x 100000 = 3500
    assert at_limit == ALLOW
    assert isinstance(over, Deny)
    assert over.code == "max_position_pct"


@pytest.mark.parametrize(
    ("qty", "code"),
    [
        # htf: 1.0 x 10000 = 10000 USDC; held 0.085 BTC = 8500.00 + 0.375 ETH x 4000.00 = 1500.00: exactly 10000
        ("0.375", None),
        # 0.3751 x 4000.00 = 1500.40: 10000.40 > 10000 (the position, 1500.40, is under 20 % = 2000)
        ("0.3751", "max_leverage"),
    ],
)
def test_check_when_account_exposure_at_or_over_max_leverage_then_allowed_or_refused(
    qty: str, code: str | None
) -> None:
    # Arrange
    view = make_view(
        T0,
        accounts=[usdc()],
        fills=[fill("f1", "buy", "100000.0", qty="0.085", symbol="BTC-PERP", strategy="s9")],
        marks={"BTC-PERP": "100000.0", "ETH-PERP": "4000.00"},
        instruments=(*INSTRUMENTS, ETH_PERP),
    )
    eth = order("buy", qty, symbol="ETH-PERP", price="4000.00", strategy="h1")
    # Act
    verdict = rule().check(eth, view, TrailingStopState())
    # Assert
    if code is None:
        assert verdict == ALLOW
    else:
        assert verdict == Deny(
            "trailing_stop",
            "max_leverage",
            "A1's exposure would be 10000.40 USDC after this order, over the 1x leverage limit for htf "
            "(10000.00 USDC on 10000.00 USDC of equity); the order is refused",
        )


def test_check_when_the_order_reduces_the_symbol_then_leverage_counts_the_net_after_it() -> None:
    # Arrange: s9 long 0.12 BTC (12000.00, already past htf's 10000); h1 sells 0.02: the account holds 0.10 after
    view = make_view(
        T0,
        accounts=[usdc()],
        fills=[fill("f1", "buy", "100000.0", qty="0.12", symbol="BTC-PERP", strategy="s9")],
        marks={"BTC-PERP": "100000.0"},
    )
    # Act: h1's own position after is short 0.02 = 2000.00 = 20 % (allowed); exposure 0.10 x 100000.0 = 10000.00
    verdict = rule().check(btc("sell", "0.02", strategy="h1"), view, TrailingStopState())
    # Assert
    assert verdict == ALLOW


@pytest.mark.parametrize(
    ("accounts", "marks_", "price", "code"),
    [
        ([], {}, "100000.0", "account_unknown"),
        ([usdc()], {}, None, "price_unknown"),
        ([account()], {}, "100000.0", "currency_mismatch"),
    ],
)
def test_check_when_data_is_missing_then_fails_closed(
    accounts: list[AccountSnapshot], marks_: dict[str, str], price: str | None, code: str
) -> None:
    # Arrange: no snapshot; a market order with no mark; equity in USD for a USDC contract
    view = make_view(T0, accounts=accounts, marks=marks_)
    # Act
    verdict = rule().check(btc("buy", "0.001", price=price), view, TrailingStopState())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == code


def test_check_when_a_held_symbol_has_no_mark_then_leverage_fails_closed() -> None:
    # Arrange: s9 holds ETH with no mark; h1's BTC order has a price
    view = make_view(
        T0,
        accounts=[usdc()],
        fills=[fill("f1", "buy", "4000.00", qty="0.1", symbol="ETH-PERP", strategy="s9")],
        instruments=(*INSTRUMENTS, ETH_PERP),
    )
    # Act
    verdict = rule().check(btc("buy", "0.001", strategy="h1"), view, TrailingStopState())
    # Assert
    assert isinstance(verdict, Deny)
    assert (verdict.code, verdict.message.startswith("no mark for ETH-PERP, which A1 holds")) == ("price_unknown", True)


def test_check_when_untyped_strategy_or_type_without_limits_then_allows() -> None:
    # Arrange: nothing known about the account at all
    view = make_view(T0, accounts=[])
    manager = rule({"t1": "bare", "s1": "trend_following"}, bare=TrailingProfile(initial_stop_pct=D(1)))
    # Act / Assert
    assert manager.check(btc("buy", "1", strategy="s9"), view, TrailingStopState()) == ALLOW
    assert manager.check(btc("buy", "1", strategy="t1"), view, TrailingStopState()) == ALLOW


# -- the shared helpers added to _trailing ------------------------------------------------------------------


def test_stop_hit_when_price_at_or_through_the_stop_then_true() -> None:
    # Act / Assert
    assert [stop_hit(LONG, D("100"), D(p)) for p in ("100.25", "100", "99.75")] == [False, True, True]
    assert [stop_hit(SHORT, D("100"), D(p)) for p in ("99.75", "100", "100.25")] == [False, True, True]


def test_best_price_when_compared_then_highest_for_long_lowest_for_short() -> None:
    # Act / Assert
    assert (best_price(LONG, D("10"), D("11")), best_price(LONG, D("10"), D("9"))) == (D("11"), D("10"))
    assert (best_price(SHORT, D("10"), D("11")), best_price(SHORT, D("10"), D("9"))) == (D("10"), D("9"))


@pytest.mark.parametrize(
    ("side", "current", "proposed", "step", "expected"),
    [
        (LONG, None, D("1"), D("5"), True),
        (LONG, D("10"), D("12"), D("2"), True),
        (LONG, D("10"), D("11.99"), D("2"), False),
        (LONG, D("10"), D("10"), D("0"), False),
        (LONG, D("10"), D("8"), D("0"), False),
        (SHORT, D("10"), D("8"), D("2"), True),
        (SHORT, D("10"), D("8.01"), D("2"), False),
    ],
)
def test_improves_by_when_compared_then_strictly_tighter_by_at_least_the_step(
    side: PositionSide, current: Decimal | None, proposed: Decimal, step: Decimal, expected: bool
) -> None:
    # Act / Assert
    assert improves_by(side, current, proposed, step) is expected


def test_pct_from_when_toward_loss_or_profit_then_below_or_above_for_the_side() -> None:
    # Act / Assert: 18000 x 0.99 = 17820, x 1.01 = 18180
    assert pct_from(LONG, D("18000"), D("1"), toward_loss=True) == D("17820")
    assert pct_from(LONG, D("18000"), D("1"), toward_loss=False) == D("18180")
    assert pct_from(SHORT, D("18000"), D("1"), toward_loss=True) == D("18180")
    assert pct_from(SHORT, D("18000"), D("1"), toward_loss=False) == D("17820")


def test_working_stop_when_several_then_the_first_on_the_closing_side_of_the_strategy() -> None:
    # Arrange
    orders = WorkingOrders()
    for each in (
        working("buy-stop", "buy", "1"),
        working("limit", "sell", "1", order_type="limit", price="18100.00", stop_price=None),
        working("other", "sell", "1", strategy="s9"),
        working("mine", "sell", "1", strategy="t1"),
    ):
        orders.update(each)
    # Act / Assert
    assert closing_side(LONG) is Side.SELL
    assert closing_side(SHORT) is Side.BUY
    assert getattr(working_stop(orders, "A1", "MNQ", LONG), "order_id", None) == "other"
    assert getattr(working_stop(orders, "A1", "MNQ", LONG, "t1"), "order_id", None) == "mine"
    assert getattr(working_stop(orders, "A1", "MNQ", SHORT), "order_id", None) == "buy-stop"
    assert working_stop(orders, "A1", "ES", LONG) is None


def test_price_text_when_finer_than_the_grid_then_rounded_two_places_finer() -> None:
    # Act / Assert
    assert (price_text(D("18000.25"), D("0.25")), price_text(D("18000.123456"), D("0.25"))) == (
        "18000.25",
        "18000.1235",
    )


# -- through the engine ------------------------------------------------------------------------------------------


def test_engine_when_the_trailing_stop_is_hit_then_the_exit_is_approved_while_the_limits_refuse_entries() -> None:
    # Arrange: A1 holds 10000 USDC; t1 (trend_following) buys 0.015 BTC at 100000.0 = 1500.00, exactly 15 %
    engine = RiskEngine([rule({"t1": "trend_following"})], INSTRUMENTS)
    engine.handle(usdc())
    engine.handle(MarkUpdated("BTC-PERP", Price("100000.0"), at(1)))
    entry = engine.check(btc("buy", "0.015", order_id="o1", ts=at(2)))
    opening = engine.handle(fill("f1", "buy", "100000.0", qty="0.015", symbol="BTC-PERP", seconds=3))
    engine.handle(working("st1", "sell", "0.015", symbol="BTC-PERP", stop_price="99000.0", strategy="t1", ts=at(4)))
    # Act
    trail = engine.handle(MarkUpdated("BTC-PERP", Price("101000.0"), at(5)))
    hit = engine.handle(MarkUpdated("BTC-PERP", Price("100495.0"), at(6)))
    again = engine.handle(MarkUpdated("BTC-PERP", Price("100400.0"), at(7)))
    more = engine.check(btc("buy", "0.001", price=None, order_id="o2", ts=at(8)))
    exit_ = engine.check(btc("sell", "0.015", price=None, order_id="o3", ts=at(9)))
    # Assert:
    # open: 100000.0 x 0.99 = 99000.0, placed (no working stop yet)
    # 101000.0 is 1 % up: trail 101000.0 x 0.995 = 100495.0 on the venue's st1
    # 100495.0 is at the stop: close, once
    # one more lot: 0.016 x 100400.0 = 1606.40 > 1500.00 refused; the sell only reduces: approved
    assert entry.approved is True
    assert [(a.id, fields(a)) for a in opening] == [("3.1.trailing_stop.move_stop", move("99000.0", symbol="BTC-PERP"))]
    assert [fields(a) for a in trail] == [move("100495.0", "st1", "BTC-PERP")]
    assert [fields(a) for a in hit] == [close("BTC-PERP")]
    assert isinstance(hit[0], ClosePosition)
    assert hit[0].reason == (
        "trailing stop 100495.0 hit at 100495.0 (trend_following): t1's BTC-PERP long on A1 is closed"
    )
    assert again == []
    assert (more.approved, more.reason_code, more.rule) == (False, "max_position_pct", "trailing_stop")
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")


# -- headroom -----------------------------------------------------------------------------------------------------


def test_trailing_stop_headroom_when_a_typed_strategy_holds_then_its_position_and_the_account_exposure_rows() -> None:
    # Arrange: A1 has 10000 USDC; t1 (trend_following: 15 %, 1.2x) long 0.01 BTC, s9 (no type) long 0.02 BTC
    view = make_view(
        T0,
        accounts=[usdc()],
        fills=[
            fill("f1", "buy", "100000.0", qty="0.01", symbol="BTC-PERP"),
            fill("f2", "buy", "100000.0", qty="0.02", symbol="BTC-PERP", strategy="s9"),
        ],
        marks={"BTC-PERP": "96000.0"},
    )
    # Act
    rows = rule().headroom(view, TrailingStopState())
    # Assert:
    # t1's position at the mark: 0.01 x 96000.0 x 1 = 960 USDC of 15 % x 10000 = 1500 USDC -> 64.0 %
    # A1's exposure: (0.01 + 0.02) x 96000.0 = 2880 USDC of 1.2 x 10000 = 12000 (trend_following) -> 24.0 %,
    # and of 1.0 x 10000 = 10000 (htf) -> 28.8 %; arbitrage has no leverage limit, s9 no type
    assert [(r.rule, r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        (
            "trailing_stop",
            "position value (trend_following)",
            Scope(account="A1", strategy="t1", symbol="BTC-PERP"),
            D(960),
            D(1500),
            "USDC",
            D("64.0"),
        ),
        (
            "trailing_stop",
            "exposure (trend_following, 1.2x equity)",
            Scope(account="A1"),
            D(2880),
            D(12000),
            "USDC",
            D("24.0"),
        ),
        ("trailing_stop", "exposure (htf, 1x equity)", Scope(account="A1"), D(2880), D(10000), "USDC", D("28.8")),
    ]
    assert rows[0].remaining == D(540)


@pytest.mark.parametrize(
    ("accounts", "marks_"),
    [
        ([usdc()], {}),  # no mark for the held BTC: neither its value nor the exposure can be measured
        ([usdc("0")], {"BTC-PERP": "96000.0"}),  # no positive equity to take a share of
        ([], {"BTC-PERP": "96000.0"}),  # no account update
    ],
)
def test_trailing_stop_headroom_when_a_mark_or_the_equity_is_missing_then_no_rows(
    accounts: list[AccountSnapshot], marks_: dict[str, str]
) -> None:
    # Arrange: t1 long 0.01 BTC on A1
    view = make_view(
        T0, accounts=accounts, fills=[fill("f1", "buy", "100000.0", qty="0.01", symbol="BTC-PERP")], marks=marks_
    )
    # Act / Assert: the gate refuses new risk there; headroom reports nothing for A1
    assert rule().headroom(view, TrailingStopState()) == []
