"""The paper venue's prices and matching, with numbers worked out by hand, and a property over
random order flows: positions are the sum of fills, money is exact."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated, OrderStatus, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.money import Price
from riskguard.core.orders import OrderRequest
from riskguard.testing.factories import BTC_PERP, MNQ, T0
from riskguard.venues.base import CallClass, OrderRejected, VenueEvent
from riskguard.venues.paper import MatchingSimulator, PaperAccount, PriceWalk

D = Decimal
ZERO = D(0)


def make_sim(**overrides: Any) -> MatchingSimulator:
    """A1 (USD, 50000) and A2 (USD, 20000) trade MNQ at 20000.00; C1 (USDC, 10000) trades
    BTC-PERP at 60000.0. Half a spread is 1 tick; MNQ pays 0.62 a contract, BTC-PERP 27 a coin."""
    settings: dict[str, Any] = {
        "half_spread_ticks": 1,
        "fee_per_unit": {"MNQ": D("0.62"), "BTC-PERP": D("27")},
    }
    settings.update(overrides)
    return MatchingSimulator(
        [MNQ, BTC_PERP],
        [PaperAccount("A1", D("50000")), PaperAccount("A2", D("20000")), PaperAccount("C1", D("10000"), "USDC")],
        {"MNQ": D("20000.00"), "BTC-PERP": D("60000.0")},
        **settings,
    )


def order(
    side: str,
    qty: str,
    order_type: str = "market",
    *,
    price: str | None = None,
    stop_price: str | None = None,
    account: str = "A1",
    strategy: str = "s1",
    symbol: str = "MNQ",
    reduce_only: bool = False,
    stop_loss: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        order_id="c-1",
        account=account,
        strategy=strategy,
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        order_type=order_type,  # type: ignore[arg-type]
        qty=qty,  # type: ignore[arg-type]
        ts=T0,
        price=price,  # type: ignore[arg-type]
        stop_price=stop_price,  # type: ignore[arg-type]
        reduce_only=reduce_only,
        stop_loss=stop_loss,  # type: ignore[arg-type]
    )


def mark(sim: MatchingSimulator, price: str, symbol: str = "MNQ", seconds: int = 1) -> list[VenueEvent]:
    return sim.on_mark(MarkUpdated(symbol, price, T0 + timedelta(seconds=seconds)))  # type: ignore[arg-type]


def fills_in(events: list[VenueEvent]) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]


def updates_in(events: list[VenueEvent]) -> list[tuple[str, OrderStatus, Decimal]]:
    return [(e.order_id, e.status, e.qty) for e in events if isinstance(e, OrderUpdated)]


def snapshots_in(events: list[VenueEvent]) -> list[tuple[str, Decimal, Decimal]]:
    return [(e.account, e.balance, e.equity) for e in events if isinstance(e, AccountSnapshot)]


# -- prices ------------------------------------------------------------------------------


def test_price_walk_when_same_seed_then_same_prices_on_the_tick_grid() -> None:
    # Arrange
    first, second = PriceWalk(MNQ, D("20000.00"), 7, 4), PriceWalk(MNQ, D("20000.00"), 7, 4)
    # Act
    a = [first.step(T0 + timedelta(seconds=n)).price for n in range(200)]
    b = [second.step(T0 + timedelta(seconds=n)).price for n in range(200)]
    # Assert
    assert a == b
    assert all(p % MNQ.tick_size == 0 for p in a)
    assert len(set(a)) > 10  # it does move
    assert all(abs(later - earlier) <= 4 * MNQ.tick_size for earlier, later in pairwise(a))


def test_price_walk_when_different_seeds_then_different_paths() -> None:
    # Arrange
    walks = [PriceWalk(MNQ, D("20000.00"), seed, 4) for seed in (1, 2)]
    # Act
    paths = [[w.step(T0).price for _ in range(50)] for w in walks]
    # Assert
    assert paths[0] != paths[1]


def test_price_walk_when_it_falls_towards_zero_then_it_stops_at_one_tick() -> None:
    # Arrange: one tick above nothing, and moves of up to 50 ticks
    walk = PriceWalk(MNQ, D("0.25"), 3, 50)
    # Act
    prices = [walk.step(T0).price for _ in range(500)]
    # Assert
    assert min(prices) == D("0.25")
    assert all(p > 0 for p in prices)


def test_price_walk_when_jumped_then_reports_the_price_and_keeps_the_seed_stream() -> None:
    # Arrange
    jumped, plain = PriceWalk(MNQ, D("20000.00"), 5, 4), PriceWalk(MNQ, D("20000.00"), 5, 4)
    # Act
    moved = jumped.jump(D("20100.00"), T0)
    # Assert: the next moves are the seed's, from the new price
    assert moved == MarkUpdated("MNQ", Price("20100.00"), T0)
    assert jumped.step(T0).price - D("20100.00") == plain.step(T0).price - D("20000.00")


@pytest.mark.parametrize(
    ("start", "volatility", "problem"),
    [("20000.10", 4, "price grid"), ("0", 4, "greater than zero"), ("20000.00", -1, "0 or more")],
)
def test_price_walk_when_start_or_volatility_is_bad_then_refused(start: str, volatility: int, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        PriceWalk(MNQ, D(start), 1, volatility)


# -- market orders, PnL and equity ------------------------------------------------------


def test_market_buy_when_filled_then_pays_half_spread_and_fees_and_equity_follows_the_price() -> None:
    # Arrange
    sim = make_sim()
    # Act: buy 2 MNQ at market with the price at 20000.00: ask = 20000.00 + 1 tick = 20000.25
    placed = sim.place(order("buy", "2"), T0)
    # Assert: fee 0.62 x 2 = 1.24 -> balance 50000 - 1.24 = 49998.76;
    # equity marks at 20000.00: (20000.00 - 20000.25) x 2 contracts x 2 USD = -1.00 -> 49997.76
    assert placed.order_id == "P-1"
    (fill,) = fills_in(placed.events)
    assert (fill.fill_id, fill.strategy, fill.side, fill.qty, fill.price, fill.fee) == (
        "P-1.1",
        "s1",
        Side.BUY,
        D("2"),
        D("20000.25"),
        D("1.24"),
    )
    assert updates_in(placed.events) == [("P-1", OrderStatus.WORKING, D("2")), ("P-1", OrderStatus.FILLED, D("2"))]
    assert PositionReported("A1", "MNQ", D("2"), T0) in placed.events
    assert snapshots_in(placed.events) == [("A1", D("49998.76"), D("49997.76"))]

    # Act: the price steps to 20010.00
    events = mark(sim, "20010.00")
    # Assert: unrealized (20010.00 - 20000.25) x 2 x 2 = 9.75 x 4 = +39.00 -> equity 49998.76 + 39.00 = 50037.76,
    # i.e. +37.76 on the day after 1.24 of fees
    assert events[0] == MarkUpdated("MNQ", Price("20010.00"), T0 + timedelta(seconds=1))
    assert snapshots_in(events) == [("A1", D("49998.76"), D("50037.76"))]


def test_close_position_when_long_then_sells_at_the_bid_and_realized_moves_the_balance() -> None:
    # Arrange: long 2 at 20000.25 (fees 1.24), price now 20010.00
    sim = make_sim()
    sim.place(order("buy", "2"), T0)
    mark(sim, "20010.00")
    # Act: close at bid = 20010.00 - 0.25 = 20009.75
    placed = sim.close_position("A1", "MNQ", None, T0)
    # Assert: realized (20009.75 - 20000.25) x 2 x 2 = 9.50 x 4 = 38.00; fees 1.24 + 1.24 = 2.48;
    # balance 50000 + 38.00 - 2.48 = 50035.52 = equity (flat)
    (fill,) = fills_in(placed.events)
    assert (fill.side, fill.qty, fill.price, fill.strategy) == (Side.SELL, D("2"), D("20009.75"), "s1")
    assert (sim.realized_pnl("A1"), sim.fees("A1"), sim.balance("A1")) == (D("38.00"), D("2.48"), D("50035.52"))
    assert snapshots_in(placed.events) == [("A1", D("50035.52"), D("50035.52"))]
    assert sim.positions("A1", T0) == []
    assert updates_in(placed.events)[-1] == ("P-2", OrderStatus.FILLED, D("2"))
    assert [e.strategy for e in placed.events if isinstance(e, OrderUpdated)] == ["riskguard", "riskguard"]


def test_close_position_when_the_same_client_id_comes_again_then_answered_with_the_first_close_only() -> None:
    # Arrange: long 3; a reduce of 1 carrying an idempotency key (a riskguard action id)
    sim = make_sim()
    sim.place(order("buy", "3"), T0)
    first = sim.close_position("A1", "MNQ", D("1"), T0, "7.1.max_contracts.reduce_position")
    # Act: the daemon crashed before it recorded the reduce as done, and sends it again
    again = sim.close_position("A1", "MNQ", D("1"), T0, "7.1.max_contracts.reduce_position")
    # Assert: the same order answers, nothing new trades, the repeat is counted; 3 - 1 = 2 left
    assert (again.order_id, again.events) == (first.order_id, [])
    assert sim.net_qty("A1", "MNQ") == D("2")
    assert sim.repeated_client_ids == ["7.1.max_contracts.reduce_position"]
    # a new key is a new close
    sim.close_position("A1", "MNQ", D("1"), T0, "9.1.max_contracts.reduce_position")
    assert sim.net_qty("A1", "MNQ") == D("1")


def test_place_stop_when_the_same_client_id_comes_again_then_one_stop_works() -> None:
    sim = make_sim()
    sim.place(order("buy", "2"), T0)
    first = sim.place_stop("A1", "MNQ", Side.SELL, D("2"), D("19990.00"), T0, "4.1.protective_stops.move_stop")
    again = sim.place_stop("A1", "MNQ", Side.SELL, D("2"), D("19990.00"), T0, "4.1.protective_stops.move_stop")
    assert again.order_id == first.order_id
    assert [o.order_id for o in sim.open_orders("A1", T0)] == [first.order_id]


def test_market_sell_when_short_and_the_price_rises_then_the_loss_is_exact_fifo() -> None:
    # Arrange: sell 1 at 19999.75 (bid), sell 1 more at 20004.75 after the price goes to 20005.00
    sim = make_sim(fee_per_unit={})
    sim.place(order("sell", "1"), T0)
    mark(sim, "20005.00")
    sim.place(order("sell", "1"), T0)
    # Act: buy 3 at 20010.25 (price 20010.00): closes both lots and opens long 1
    mark(sim, "20010.00")
    placed = sim.place(order("buy", "3"), T0)
    # Assert: realized (19999.75 - 20010.25) x 2 + (20004.75 - 20010.25) x 2 = -21.00 + -11.00 = -32.00;
    # the new long 1 at 20010.25 shows (20010.00 - 20010.25) x 2 = -0.50
    assert sim.realized_pnl("A1") == D("-32.00")
    assert sim.net_qty("A1", "MNQ") == D("1")
    assert snapshots_in(placed.events) == [("A1", D("49968.00"), D("49967.50"))]


def test_market_order_when_btc_perp_fractional_qty_then_fee_and_pnl_are_exact_in_usdc() -> None:
    # Arrange
    sim = make_sim()
    # Act: buy 0.00150 BTC at 60000.1 (price 60000.0 + 1 tick), then the price goes to 60100.0
    sim.place(order("buy", "0.0015", account="C1", symbol="BTC-PERP"), T0)
    events = mark(sim, "60100.0", symbol="BTC-PERP")
    # Assert: fee 27 x 0.0015 = 0.0405 -> balance 9999.9595;
    # unrealized (60100.0 - 60000.1) x 0.0015 = 99.9 x 0.0015 = 0.14985 -> equity 10000.10935
    assert snapshots_in(events) == [("C1", D("9999.9595"), D("10000.10935"))]


# -- limits, stops and stop limits -------------------------------------------------------


def test_limit_buy_when_price_stays_above_then_rests_and_when_it_crosses_then_fills_at_the_limit() -> None:
    # Arrange
    sim = make_sim()
    placed = sim.place(order("buy", "1", "limit", price="19990.00"), T0)
    # Act
    above = mark(sim, "19990.25")
    through = mark(sim, "19985.00", seconds=2)
    # Assert
    assert updates_in(placed.events) == [("P-1", OrderStatus.WORKING, D("1"))]
    assert fills_in(above) == []
    (fill,) = fills_in(through)
    assert (fill.price, fill.ts) == (D("19990.00"), T0 + timedelta(seconds=2))
    assert updates_in(through) == [("P-1", OrderStatus.FILLED, D("1"))]
    assert sim.open_orders("A1", T0) == []


def test_limit_sell_when_the_price_touches_it_then_fills_at_the_limit() -> None:
    sim = make_sim()
    sim.place(order("sell", "1", "limit", price="20005.00"), T0)
    assert [f.price for f in fills_in(mark(sim, "20005.00"))] == [D("20005.00")]


def test_limit_when_marketable_on_arrival_then_fills_at_once_at_its_limit() -> None:
    sim = make_sim()
    placed = sim.place(order("buy", "1", "limit", price="20002.00"), T0)
    assert [f.price for f in fills_in(placed.events)] == [D("20002.00")]


def test_stop_sell_when_the_price_falls_to_it_then_triggers_and_fills_at_the_bid() -> None:
    # Arrange: long 1, a protective sell stop at 19990.00
    sim = make_sim()
    sim.place(order("buy", "1"), T0)
    stop_id = sim.place_stop("A1", "MNQ", Side.SELL, D("1"), D("19990.00"), T0).order_id
    # Act
    before = mark(sim, "19990.25")
    after = mark(sim, "19989.00", seconds=2)
    # Assert: fills as market at 19989.00 - 0.25 = 19988.75
    assert fills_in(before) == []
    (fill,) = fills_in(after)
    assert (fill.order_id, fill.price, fill.strategy) == (stop_id, D("19988.75"), "s1")
    assert sim.net_qty("A1", "MNQ") == ZERO


def test_stop_buy_when_the_price_rises_to_it_then_triggers_and_fills_at_the_ask() -> None:
    sim = make_sim()
    sim.place(order("buy", "1", "stop", stop_price="20010.00"), T0)
    assert fills_in(mark(sim, "20009.75")) == []
    assert [f.price for f in fills_in(mark(sim, "20010.00", seconds=2))] == [D("20010.25")]


def test_stop_limit_when_triggered_then_works_as_a_limit() -> None:
    # Arrange: buy stop 20010.00, limit 20011.00
    sim = make_sim()
    sim.place(order("buy", "1", "stop_limit", price="20011.00", stop_price="20010.00"), T0)
    # Act: the price jumps past the limit (triggers, but no fill), then comes back under it
    gapped = mark(sim, "20015.00")
    back = mark(sim, "20011.00", seconds=2)
    # Assert
    assert fills_in(gapped) == []
    assert [f.price for f in fills_in(back)] == [D("20011.00")]


# -- partial fills ----------------------------------------------------------------------


def test_market_order_when_larger_than_max_qty_per_step_then_fills_over_steps() -> None:
    # Arrange: at most 2 MNQ per order per step
    sim = make_sim(max_qty_per_step={"MNQ": D("2")})
    # Act: buy 5: 2 on arrival, 2 at the next step, 1 at the one after
    placed = sim.place(order("buy", "5"), T0)
    second = mark(sim, "20001.00")
    third = mark(sim, "20002.00", seconds=2)
    # Assert: prices are each step's ask; what still works is reported after each part
    assert [(f.fill_id, f.qty, f.price) for f in fills_in(placed.events + second + third)] == [
        ("P-1.1", D("2"), D("20000.25")),
        ("P-1.2", D("2"), D("20001.25")),
        ("P-1.3", D("1"), D("20002.25")),
    ]
    assert updates_in(placed.events) == [("P-1", OrderStatus.WORKING, D("5")), ("P-1", OrderStatus.WORKING, D("3"))]
    assert updates_in(second) == [("P-1", OrderStatus.WORKING, D("1"))]
    assert updates_in(third) == [("P-1", OrderStatus.FILLED, D("5"))]
    assert sim.net_qty("A1", "MNQ") == D("5")


def test_limit_order_when_partly_filled_and_the_price_leaves_then_the_rest_waits() -> None:
    sim = make_sim(max_qty_per_step={"MNQ": D("1")})
    sim.place(order("sell", "3", "limit", price="20005.00"), T0)
    assert len(fills_in(mark(sim, "20005.00"))) == 1
    assert fills_in(mark(sim, "20004.75", seconds=2)) == []
    assert [o.qty for o in sim.open_orders("A1", T0)] == [D("2")]


# -- reduce-only ------------------------------------------------------------------------


def test_reduce_only_when_flat_then_refused_and_nothing_changes() -> None:
    # Arrange
    sim = make_sim()
    # Act / Assert
    with pytest.raises(OrderRejected, match="would not reduce anything: the position is flat"):
        sim.place(order("sell", "1", reduce_only=True), T0)
    with pytest.raises(OrderRejected, match="no MNQ position to close"):
        sim.close_position("A1", "MNQ", None, T0)
    with pytest.raises(OrderRejected, match="the position is flat"):
        sim.place_stop("A1", "MNQ", Side.SELL, D("1"), D("19990.00"), T0)
    assert sim.open_orders("A1", T0) == []
    assert sim.place(order("buy", "1"), T0).order_id == "P-1"  # no id was used up


def test_reduce_only_when_on_the_side_of_the_position_then_refused() -> None:
    sim = make_sim()
    sim.place(order("buy", "2"), T0)
    with pytest.raises(OrderRejected, match="the position is long 2"):
        sim.place(order("buy", "1", reduce_only=True), T0)


def test_reduce_only_when_larger_than_the_position_then_fills_the_position_and_cancels_the_rest() -> None:
    # Arrange
    sim = make_sim()
    sim.place(order("buy", "2"), T0)
    # Act
    placed = sim.place(order("sell", "5", reduce_only=True), T0)
    # Assert
    assert [f.qty for f in fills_in(placed.events)] == [D("2")]
    assert updates_in(placed.events)[-1] == ("P-2", OrderStatus.CANCELLED, D("3"))
    assert sim.net_qty("A1", "MNQ") == ZERO


def test_reduce_only_stop_when_the_position_closes_otherwise_then_it_is_cancelled() -> None:
    # Arrange: long 1 with a stop
    sim = make_sim()
    sim.place(order("buy", "1"), T0)
    stop_id = sim.place_stop("A1", "MNQ", Side.SELL, D("1"), D("19990.00"), T0).order_id
    # Act
    placed = sim.place(order("sell", "1"), T0)
    # Assert
    cancelled = [e for e in placed.events if isinstance(e, OrderUpdated) and e.status is OrderStatus.CANCELLED]
    assert [(e.order_id, e.reason) for e in cancelled] == [
        (stop_id, "reduce-only: the MNQ position no longer has a side a sell can reduce")
    ]


def test_reduce_only_limits_when_the_first_flattens_in_a_step_then_the_second_is_cancelled_once() -> None:
    # Arrange: long 1, two reduce-only sell limits at 20005.00 (found by the property below)
    sim = make_sim()
    sim.place(order("buy", "1"), T0)
    first = sim.place(order("sell", "1", "limit", price="20005.00", reduce_only=True), T0).order_id
    second = sim.place(order("sell", "1", "limit", price="20005.00", reduce_only=True), T0).order_id
    # Act
    events = mark(sim, "20005.00")
    # Assert
    assert [f.order_id for f in fills_in(events)] == [first]
    assert updates_in(events) == [(first, OrderStatus.FILLED, D("1")), (second, OrderStatus.CANCELLED, D("1"))]
    assert sim.open_orders("A1", T0) == []


def test_close_position_when_strategies_share_the_position_then_fills_are_split_by_strategy() -> None:
    # Arrange: s1 long 2, s2 long 1, s3 short 1: the venue shows long 2
    sim = make_sim(fee_per_unit={})
    sim.place(order("buy", "2"), T0)
    sim.place(order("buy", "1", strategy="s2"), T0)
    sim.place(order("sell", "1", strategy="s3"), T0)
    # Act: close 2 of the net 2, then nothing is left
    placed = sim.close_position("A1", "MNQ", D("5"), T0)
    # Assert: the close reduces the long strategies in name order, s1 first
    assert [(f.fill_id, f.strategy, f.qty) for f in fills_in(placed.events)] == [("P-4.1", "s1", D("2"))]
    assert sim.strategy_positions("A1") == {("s2", "MNQ"): D("1"), ("s3", "MNQ"): D("-1")}
    assert sim.positions("A1", T0) == []


def test_close_position_when_a_qty_spans_strategies_then_each_gets_its_share() -> None:
    sim = make_sim(fee_per_unit={})
    sim.place(order("buy", "1", strategy="s2"), T0)
    sim.place(order("buy", "2"), T0)
    placed = sim.close_position("A1", "MNQ", D("2"), T0)
    assert [(f.fill_id, f.strategy, f.qty) for f in fills_in(placed.events)] == [
        ("P-3.1", "s1", D("2")),
    ]
    placed = sim.close_position("A1", "MNQ", None, T0)
    assert [(f.fill_id, f.strategy, f.qty) for f in fills_in(placed.events)] == [("P-4.1", "s2", D("1"))]


# -- cancel and modify ------------------------------------------------------------------


def test_cancel_when_working_then_cancelled_and_a_second_cancel_is_refused() -> None:
    # Arrange
    sim = make_sim()
    order_id = sim.place(order("buy", "1", "limit", price="19990.00"), T0).order_id
    # Act
    events = sim.cancel("A1", order_id, T0)
    # Assert
    assert updates_in(events) == [(order_id, OrderStatus.CANCELLED, D("1"))]
    assert fills_in(mark(sim, "19980.00")) == []
    with pytest.raises(OrderRejected, match="P-1 is already cancelled"):
        sim.cancel("A1", order_id, T0)


@pytest.mark.parametrize(("account", "order_id"), [("A1", "P-99"), ("A2", "P-1")])
def test_cancel_when_the_order_is_unknown_or_another_accounts_then_refused(account: str, order_id: str) -> None:
    sim = make_sim()
    sim.place(order("buy", "1", "limit", price="19990.00"), T0)
    with pytest.raises(OrderRejected, match=f"'{order_id}' is not an order of account {account}"):
        sim.cancel(account, order_id, T0)
    assert len(sim.open_orders("A1", T0)) == 1


def test_cancel_all_when_a_symbol_is_given_then_only_that_symbol_and_that_account() -> None:
    # Arrange
    sim = make_sim()
    sim.place(order("buy", "1", "limit", price="19990.00"), T0)
    sim.place(order("sell", "1", "limit", price="20010.00"), T0)
    sim.place(order("buy", "1", "limit", price="19990.00", account="A2"), T0)
    # Act
    events = sim.cancel_all("A1", "MNQ", T0)
    # Assert
    assert [u[:2] for u in updates_in(events)] == [("P-1", OrderStatus.CANCELLED), ("P-2", OrderStatus.CANCELLED)]
    assert [o.order_id for o in sim.open_orders("A2", T0)] == ["P-3"]
    assert sim.cancel_all("A1", None, T0) == []


def test_modify_stop_when_moved_then_triggers_at_the_new_price_only() -> None:
    # Arrange: short 1, buy stop at 20020.00
    sim = make_sim()
    sim.place(order("sell", "1"), T0)
    stop_id = sim.place_stop("A1", "MNQ", Side.BUY, D("1"), D("20020.00"), T0).order_id
    # Act: tighten to 20010.00
    moved = sim.modify_stop("A1", stop_id, D("20010.00"), T0)
    # Assert
    (update,) = [e for e in moved if isinstance(e, OrderUpdated)]
    assert (update.status, update.stop_price) == (OrderStatus.WORKING, D("20010.00"))
    assert [f.price for f in fills_in(mark(sim, "20010.00"))] == [D("20010.25")]


def test_modify_stop_when_moved_through_the_price_then_triggers_at_once() -> None:
    sim = make_sim()
    sim.place(order("buy", "1"), T0)
    stop_id = sim.place_stop("A1", "MNQ", Side.SELL, D("1"), D("19990.00"), T0).order_id
    events = sim.modify_stop("A1", stop_id, D("20000.00"), T0)
    assert [f.price for f in fills_in(events)] == [D("19999.75")]
    assert sim.net_qty("A1", "MNQ") == ZERO


@pytest.mark.parametrize(
    ("stop_price", "problem"),
    [(D("20000.10"), "not on the MNQ price grid"), (D("-1"), "greater than zero")],
)
def test_modify_stop_when_the_price_is_bad_then_refused_and_the_stop_stays(stop_price: Decimal, problem: str) -> None:
    sim = make_sim()
    sim.place(order("buy", "1"), T0)
    stop_id = sim.place_stop("A1", "MNQ", Side.SELL, D("1"), D("19990.00"), T0).order_id
    with pytest.raises(OrderRejected, match=problem):
        sim.modify_stop("A1", stop_id, stop_price, T0)
    assert [o.stop_price for o in sim.open_orders("A1", T0)] == [D("19990.00")]


def test_modify_stop_when_the_order_is_a_limit_then_refused() -> None:
    sim = make_sim()
    order_id = sim.place(order("buy", "1", "limit", price="19990.00"), T0).order_id
    with pytest.raises(OrderRejected, match="only a stop has a stop price"):
        sim.modify_stop("A1", order_id, D("19995.00"), T0)


# -- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (order("buy", "1", account="ZZ"), "account 'ZZ' is not an account of the paper venue"),
        (order("buy", "1", symbol="ES"), "symbol 'ES' is not traded at the paper venue"),
        (order("buy", "1", symbol="BTC-PERP"), "A1 holds USD and BTC-PERP settles in USDC"),
        (order("buy", "1", "limit", price="19990.10"), "not on the MNQ price grid"),
        (order("buy", "1.5"), "not a whole number of MNQ lots"),
        (order("buy", "1", "limit", price="19990.00", stop_loss="19980.00"), "does not take attached stop_loss"),
    ],
)
def test_place_when_the_request_is_bad_then_refused_and_nothing_changes(request_: OrderRequest, problem: str) -> None:
    # Arrange
    sim = make_sim()
    # Act
    with pytest.raises(OrderRejected, match=problem) as caught:
        sim.place(request_, T0)
    # Assert
    assert caught.value.call_class is CallClass.ORDER_SUBMISSION
    assert sim.open_orders("A1", T0) == []
    assert sim.fills("A1") == []


def test_queries_when_the_account_is_unknown_then_refused_as_an_account_read() -> None:
    with pytest.raises(OrderRejected, match="it has A1, A2, C1") as caught:
        make_sim().snapshot("ZZ", T0)
    assert caught.value.call_class is CallClass.ACCOUNT_READS


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"fee_per_unit": {"ES": D("1")}}, "names no instrument"),
        ({"max_qty_per_step": {"BTC-PERP": D("0.000001")}}, "not a whole number of BTC-PERP lots"),
        ({"half_spread_ticks": -1}, "0 or more"),
        ({"id_prefix": "bad prefix"}, "must be 1-128 characters"),
    ],
)
def test_simulator_when_configured_badly_then_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        make_sim(**settings)


def test_simulator_when_an_instrument_has_no_start_price_then_refused() -> None:
    with pytest.raises(InvalidInput, match="has no start price"):
        MatchingSimulator([MNQ], [PaperAccount("A1", D("1"))], {})


def test_market_sell_when_the_price_is_one_tick_then_the_bid_stays_at_one_tick() -> None:
    sim = MatchingSimulator([MNQ], [PaperAccount("A1", D("1000"))], {"MNQ": D("0.25")}, half_spread_ticks=3)
    assert [f.price for f in fills_in(sim.place(order("sell", "1"), T0).events)] == [D("0.25")]


def test_fills_when_asked_since_a_time_then_only_those_at_or_after_it_oldest_first() -> None:
    sim = make_sim()
    sim.place(order("buy", "1"), T0)
    sim.place(order("buy", "1"), T0 + timedelta(seconds=5))
    sim.place(order("buy", "1"), T0 + timedelta(seconds=9))
    assert [f.fill_id for f in sim.fills("A1", T0 + timedelta(seconds=5))] == ["P-2.1", "P-3.1"]
    assert sim.fills("A2") == []


# -- the property -----------------------------------------------------------------------

ACCOUNTS = ("A1", "A2")
STRATEGIES = ("s1", "s2")


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Random orders, closes, stops, cancels and price steps on MNQ for two accounts."""
    ops: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["market", "limit", "stop", "close", "stop_order", "cancel", "step", "step"]))
        account, strategy = draw(st.sampled_from(ACCOUNTS)), draw(st.sampled_from(STRATEGIES))
        side, qty = draw(st.sampled_from(["buy", "sell"])), draw(st.integers(1, 6))
        offset = draw(st.integers(-40, 40))
        ops.append((kind, account, strategy, side, qty, offset, draw(st.booleans())))  # reduce-only, or close qty
    return ops


def run(sim: MatchingSimulator, ops: list[tuple[Any, ...]]) -> list[VenueEvent]:
    """Apply the operations; refusals are part of the game (they must change nothing)."""
    events: list[VenueEvent] = []
    for n, (kind, account, strategy, side, qty, offset, reduce_only) in enumerate(ops):
        ts = T0 + timedelta(seconds=n)
        price = max(sim.price("MNQ") + MNQ.tick_size * offset, MNQ.tick_size)
        try:
            if kind == "step":
                events += sim.on_mark(MarkUpdated("MNQ", price, ts))
            elif kind == "close":
                events += sim.close_position(account, "MNQ", D(qty) if reduce_only else None, ts).events
            elif kind == "stop_order":
                events += sim.place_stop(account, "MNQ", Side(side), D(qty), price, ts).events
            elif kind == "cancel":
                open_ids = [o.order_id for o in sim.open_orders(account, ts)]
                if open_ids:
                    events += sim.cancel(account, open_ids[offset % len(open_ids)], ts)
            else:
                request = order(
                    side,
                    str(qty),
                    kind,
                    price=str(price) if kind == "limit" else None,
                    stop_price=str(price) if kind == "stop" else None,
                    account=account,
                    strategy=strategy,
                    reduce_only=reduce_only,
                )
                events += sim.place(request, ts).events
        except OrderRejected:
            pass
    return events


@given(ops=operations(), max_qty=st.sampled_from([None, D("1"), D("2")]))
def test_simulator_when_any_order_flow_then_positions_are_the_sum_of_fills_and_money_is_exact(
    ops: list[tuple[Any, ...]], max_qty: Decimal | None
) -> None:
    # Arrange
    sim = make_sim(max_qty_per_step={} if max_qty is None else {"MNQ": max_qty})
    start = {"A1": D("50000"), "A2": D("20000")}
    # Act
    events = run(sim, ops)
    # Assert
    fills = [e for e in events if isinstance(e, Fill)]
    assert len({f.fill_id for f in fills}) == len(fills)
    assert {f.fill_id: f for f in fills} == {f.fill_id: f for f in sim.fills("A1") + sim.fills("A2")}
    last_reported = {(e.account, e.symbol): e.net_qty for e in events if isinstance(e, PositionReported)}
    mnq = sim.price("MNQ")
    for account in ACCOUNTS:
        mine = [f for f in fills if f.account == account]
        net = sum((f.signed_qty for f in mine), ZERO)
        reported = {p.symbol: p.net_qty for p in sim.positions(account, T0)}
        assert reported.get("MNQ", ZERO) == net
        assert last_reported.get((account, "MNQ"), ZERO) == net
        assert sum(sim.strategy_positions(account).values(), ZERO) == net
        fees = sum((f.fee for f in mine), ZERO)
        # balance = start + realized - fees, exactly
        assert sim.fees(account) == fees
        assert sim.balance(account) == start[account] + sim.realized_pnl(account) - fees
        # equity = start + every fill marked to the current price - fees, exactly (no rounding anywhere)
        marked = sum((f.signed_qty * (mnq - f.price) for f in mine), ZERO) * MNQ.multiplier
        assert sim.snapshot(account, T0).equity == start[account] + marked - fees
        # once every strategy is flat, the realized PnL is the cash the fills moved
        if not sim.strategy_positions(account):
            cash = -sum((f.signed_qty * f.price for f in mine), ZERO) * MNQ.multiplier
            assert sim.realized_pnl(account) == cash


def test_simulator_when_the_same_flow_runs_twice_then_the_same_events() -> None:
    ops = [
        ("market", "A1", "s1", "buy", 3, 0, False),
        ("limit", "A2", "s2", "sell", 2, 8, False),
        ("step", "A1", "s1", "buy", 1, 10, False),
        ("stop_order", "A1", "s1", "sell", 2, -4, False),
        ("step", "A1", "s1", "buy", 1, -20, False),
        ("close", "A1", "s1", "buy", 1, 0, False),
    ]
    assert run(make_sim(max_qty_per_step={"MNQ": D("1")}), ops) == run(make_sim(max_qty_per_step={"MNQ": D("1")}), ops)
