"""The paper venue behind the venue contract: the event stream, commands and queries, the price
loop, and each injected fault. No async test plugin is installed, so each test drives its own
coroutine with asyncio.run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import Side
from riskguard.core.events import MarkUpdated, OrderStatus, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.money import Price
from riskguard.core.orders import OrderRequest
from riskguard.testing.factories import BTC_PERP, MNQ, T0
from riskguard.venues.base import (
    CallClass,
    ConnectionChanged,
    OrderRejected,
    RateLimited,
    VenueAdapter,
    VenueEvent,
    VenueUnavailable,
)
from riskguard.venues.paper import PaperAccount, PaperConfig, PaperVenue

D = Decimal
E = TypeVar("E")


class ManualClock:
    """The venue's clock in tests: a time that moves only when told."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int = 1) -> None:
        self.now += timedelta(seconds=seconds)


def config(**overrides: Any) -> PaperConfig:
    """A1 trades MNQ from 20000.00 with a 1-tick half spread and 0.62 a contract; prices move
    only when a test steps them."""
    settings: dict[str, Any] = {
        "accounts": (PaperAccount("A1", D("50000")), PaperAccount("C1", D("10000"), "USDC")),
        "instruments": (MNQ, BTC_PERP),
        "start_prices": {"MNQ": D("20000.00"), "BTC-PERP": D("60000.0")},
        "seed": 42,
        "step_interval": None,
        "volatility_ticks": {"MNQ": 4, "BTC-PERP": 20},
        "fee_per_unit": {"MNQ": D("0.62")},
    }
    settings.update(overrides)
    return PaperConfig(**settings)


def market(side: str, qty: str, *, strategy: str = "s1") -> OrderRequest:
    return OrderRequest(
        order_id="c-1",
        account="A1",
        strategy=strategy,
        symbol="MNQ",
        side=side,  # type: ignore[arg-type]
        order_type="market",  # type: ignore[arg-type]
        qty=qty,  # type: ignore[arg-type]
        ts=T0,
    )


def limit(side: str, qty: str, price: str) -> OrderRequest:
    return OrderRequest("c-2", "A1", "s1", "MNQ", side, "limit", qty, T0, price=price)  # type: ignore[arg-type]


def run_venue(
    scenario: Callable[[PaperVenue, ManualClock], Awaitable[None]], **overrides: Any
) -> tuple[PaperVenue, list[VenueEvent]]:
    """Connect a venue, run the scenario, close it, and return every event it streamed."""
    clock = ManualClock()
    venue = PaperVenue(config(**overrides), clock=clock)

    async def main() -> list[VenueEvent]:
        await venue.connect()
        try:
            await scenario(venue, clock)
        finally:
            await venue.close()
        return [event async for event in venue.events()]

    return venue, asyncio.run(main())


def of(kind: type[E], events: list[VenueEvent]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


# -- the contract and the stream ---------------------------------------------------------


def test_paper_venue_when_checked_against_the_contract_then_it_is_a_venue_adapter() -> None:
    assert isinstance(PaperVenue(config()), VenueAdapter)


def test_connect_when_called_then_the_stream_opens_with_the_link_and_the_current_marks() -> None:
    # Act
    _, events = run_venue(lambda venue, clock: asyncio.sleep(0))
    # Assert
    assert events == [
        ConnectionChanged("paper", True, T0, "connected"),
        MarkUpdated("MNQ", Price("20000.00"), T0),
        MarkUpdated("BTC-PERP", Price("60000.0"), T0),
    ]


def test_place_order_when_market_then_events_stream_and_queries_agree() -> None:
    # Arrange
    seen: dict[str, Any] = {}

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        clock.advance(5)
        seen["order_id"] = await venue.place_order(market("buy", "2"))
        seen["account"] = await venue.account("A1")
        seen["positions"] = await venue.positions("A1")
        seen["orders"] = await venue.open_orders("A1")
        seen["fills"] = await venue.fills_since("A1", T0)
        seen["accounts"] = await venue.accounts()

    # Act
    _, events = run_venue(scenario)
    # Assert: bought 2 at 20000.25, fees 1.24; equity marks at 20000.00: -0.25 x 2 x 2 = -1.00
    at = T0 + timedelta(seconds=5)
    assert seen["order_id"] == "P-1"
    (fill,) = of(Fill, events)
    assert (fill.fill_id, fill.price, fill.fee, fill.ts) == ("P-1.1", D("20000.25"), D("1.24"), at)
    assert seen["fills"] == [fill]
    assert seen["account"] == AccountSnapshot("A1", D("49998.76"), D("49997.76"), at)
    assert of(AccountSnapshot, events) == [seen["account"]]
    assert seen["positions"] == [PositionReported("A1", "MNQ", D("2"), at)]
    assert seen["orders"] == []
    assert seen["accounts"] == ["A1", "C1"]


def test_step_when_called_then_every_instrument_moves_and_orders_are_worked() -> None:
    # Arrange: a resting buy limit far below, then the market is moved onto it
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        await venue.place_order(limit("buy", "1", "19950.00"))
        clock.advance()
        stepped = venue.step()
        assert [e.symbol for e in of(MarkUpdated, stepped)] == ["MNQ", "BTC-PERP"]
        venue.move_price("MNQ", D("19949.00"))

    # Act
    _, events = run_venue(scenario)
    # Assert
    assert [(f.price, f.order_id) for f in of(Fill, events)] == [(D("19950.00"), "P-1")]
    assert events[-1] == AccountSnapshot("A1", D("49999.38"), D("49997.38"), T0 + timedelta(seconds=1))


def test_step_when_the_same_seed_then_the_same_prices_and_when_another_seed_then_others() -> None:
    # Arrange
    def prices(seed: int) -> list[Decimal]:
        venue = PaperVenue(config(seed=seed), clock=ManualClock())
        return [e.price for _ in range(100) for e in of(MarkUpdated, venue.step())]

    # Act / Assert
    assert prices(42) == prices(42)
    assert prices(42) != prices(43)
    assert all(p % D("0.25") == 0 for p in prices(42)[::2])


def test_price_loop_when_connected_then_steps_in_real_time_until_closed() -> None:
    # Act: a 10 ms step for 100 ms
    _, events = run_venue(lambda venue, clock: asyncio.sleep(0.1), step_interval=timedelta(milliseconds=10))
    # Assert: 2 marks on connect, then 2 per step
    steps = len(of(MarkUpdated, events)) // 2 - 1
    assert 1 <= steps <= 10


def test_price_loop_when_a_step_fails_then_the_link_drops_and_calls_fail_closed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    def broken(mark: MarkUpdated) -> list[VenueEvent]:
        raise RuntimeError("boom")

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        monkeypatch.setattr(venue.simulator, "on_mark", broken)
        await asyncio.sleep(0.1)
        with pytest.raises(VenueUnavailable):
            await venue.accounts()

    # Act
    _, events = run_venue(scenario, step_interval=timedelta(milliseconds=10))
    # Assert
    assert of(ConnectionChanged, events)[-1].reason == "the paper market stopped: a price step failed (boom)"
    assert "a price step failed" in caplog.text


def test_default_config_when_built_then_trades_mnq_and_btc_perp_on_demo_accounts() -> None:
    # Arrange
    venue = PaperVenue()

    # Act
    async def main() -> tuple[list[str], AccountSnapshot]:
        await venue.connect()
        try:
            return await venue.accounts(), await venue.account("PAPER-USDC")
        finally:
            await venue.close()

    names, snapshot = asyncio.run(main())
    # Assert
    assert names == ["PAPER-USD", "PAPER-USDC"]
    assert (snapshot.balance, snapshot.currency) == (D("10000"), "USDC")
    assert snapshot.ts.tzinfo is not None


def test_commands_when_not_connected_then_venue_unavailable() -> None:
    with pytest.raises(VenueUnavailable, match="place_order failed: the venue is not connected"):
        asyncio.run(PaperVenue(config()).place_order(market("buy", "1")))


def test_connect_when_the_venue_was_closed_then_refused() -> None:
    # Arrange
    venue, _ = run_venue(lambda venue, clock: asyncio.sleep(0))
    # Act / Assert
    with pytest.raises(VenueUnavailable, match="closed"):
        asyncio.run(venue.connect())


def test_fills_since_when_the_time_is_naive_then_refused() -> None:
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        with pytest.raises(OrderRejected, match="must carry a timezone"):
            await venue.fills_since("A1", datetime(2026, 3, 6))

    run_venue(scenario)


def test_place_stop_and_modify_stop_when_the_market_reaches_the_new_stop_then_the_position_closes() -> None:
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        await venue.place_order(market("buy", "1"))
        stop_id = await venue.place_stop("A1", "MNQ", Side.SELL, D("1"), D("19980.00"))
        await venue.modify_stop("A1", stop_id, D("19990.00"))
        venue.move_price("MNQ", D("19990.00"))
        assert await venue.positions("A1") == []

    _, events = run_venue(scenario)
    assert [(f.order_id, f.price) for f in of(Fill, events)] == [("P-1", D("20000.25")), ("P-2", D("19989.75"))]


def test_cancel_order_and_cancel_all_when_working_then_cancelled_events_stream() -> None:
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        first = await venue.place_order(limit("buy", "1", "19950.00"))
        await venue.place_order(limit("buy", "1", "19940.00"))
        await venue.cancel_order("A1", first)
        await venue.cancel_all("A1")
        assert await venue.open_orders("A1") == []

    _, events = run_venue(scenario)
    cancelled = [e.order_id for e in of(OrderUpdated, events) if e.status is OrderStatus.CANCELLED]
    assert cancelled == ["P-1", "P-2"]


# -- faults ------------------------------------------------------------------------------


def test_disconnect_when_injected_then_calls_fail_events_are_lost_and_reconnect_allows_catch_up() -> None:
    # Arrange
    seen: dict[str, Any] = {}

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        await venue.place_order(limit("buy", "1", "19950.00"))
        clock.advance()
        # Act: the link drops; the market reaches the limit while it is down
        venue.disconnect("test outage")
        with pytest.raises(VenueUnavailable) as caught:
            await venue.place_order(market("buy", "1"))
        seen["call_class"] = caught.value.call_class
        with pytest.raises(VenueUnavailable):
            await venue.positions("A1")
        with pytest.raises(VenueUnavailable, match=r"connect failed: the venue is down \(test outage\)"):
            await venue.connect()
        clock.advance()
        venue.move_price("MNQ", D("19950.00"))
        clock.advance()
        venue.reconnect()
        seen["fills"] = await venue.fills_since("A1", T0)
        seen["positions"] = await venue.positions("A1")

    # Act
    _, events = run_venue(scenario)
    # Assert: the fill happened at the venue, its events never arrived, and catch-up finds it
    assert of(ConnectionChanged, events) == [
        ConnectionChanged("paper", True, T0, "connected"),
        ConnectionChanged("paper", False, T0 + timedelta(seconds=1), "test outage"),
        ConnectionChanged("paper", True, T0 + timedelta(seconds=3), "reconnected"),
    ]
    assert seen["call_class"] is CallClass.ORDER_SUBMISSION
    assert of(Fill, events) == []
    assert [(f.order_id, f.price) for f in seen["fills"]] == [("P-1", D("19950.00"))]
    assert [p.net_qty for p in seen["positions"]] == [D("1")]
    assert events[-1] == MarkUpdated("BTC-PERP", Price("60000.0"), T0 + timedelta(seconds=3))


def test_disconnect_when_given_a_duration_then_reconnects_by_itself() -> None:
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        venue.disconnect("blip", duration=timedelta(milliseconds=20))
        assert not venue.connected
        await asyncio.sleep(0.1)
        assert venue.connected
        await venue.accounts()

    _, events = run_venue(scenario)
    assert [e.connected for e in of(ConnectionChanged, events)] == [True, False, True]


def test_rate_limited_when_a_burst_is_injected_then_that_many_submissions_fail_and_change_nothing() -> None:
    # Arrange
    outcomes: list[str] = []

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        venue.faults.rate_limited = 2
        await venue.account("A1")  # reads are not rate limited
        for _ in range(3):
            try:
                outcomes.append(await venue.place_order(market("buy", "1")))
            except RateLimited as exc:
                outcomes.append(f"429 {exc.call_class}")
        assert [p.net_qty for p in await venue.positions("A1")] == [D("1")]

    # Act / Assert: the first order to pass gets the first id
    run_venue(scenario)
    assert outcomes == ["429 order_submission", "429 order_submission", "P-1"]


def test_unavailable_when_injected_on_a_call_class_then_only_that_class_fails_n_times() -> None:
    # Arrange
    failures: list[CallClass] = []

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        venue.faults.unavailable[CallClass.ACCOUNT_READS] = 2
        venue.faults.unavailable[CallClass.PRICE_READS] = 1
        await venue.place_order(market("buy", "1"))  # submissions pass
        for call in (venue.account("A1"), venue.positions("A1"), venue.last_mark("MNQ")):
            try:
                await call
            except VenueUnavailable as exc:
                failures.append(exc.call_class)
        assert (await venue.account("A1")).account == "A1"
        assert (await venue.last_mark("MNQ")).price == D("20000.00")

    # Act
    run_venue(scenario)
    # Assert
    assert failures == [CallClass.ACCOUNT_READS, CallClass.ACCOUNT_READS, CallClass.PRICE_READS]


def test_delay_when_injected_then_calls_answer_late() -> None:
    # Arrange
    elapsed: list[float] = []

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        venue.faults.delay = timedelta(milliseconds=50)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await venue.account("A1")
        elapsed.append(loop.time() - started)

    # Act
    run_venue(scenario)
    # Assert
    assert elapsed[0] >= 0.045


def test_delay_when_the_link_drops_during_a_slow_call_then_the_call_fails() -> None:
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        venue.faults.delay = timedelta(milliseconds=50)
        call = asyncio.create_task(venue.place_order(market("buy", "1")))
        await asyncio.sleep(0.01)
        venue.disconnect()
        with pytest.raises(VenueUnavailable):
            await call
        venue.reconnect()
        assert await venue.positions("A1") == []

    run_venue(scenario)


def test_close_failures_when_injected_then_the_close_fails_k_times_then_closes() -> None:
    # Arrange
    outcomes: list[str] = []

    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        await venue.place_order(market("buy", "2"))
        venue.faults.close_failures = 2
        for _ in range(3):
            try:
                await venue.close_position("A1", "MNQ")
                outcomes.append("closed")
            except VenueUnavailable as exc:
                outcomes.append(f"{exc.call_class} failed, open {(await venue.positions('A1'))[0].net_qty}")
        assert await venue.positions("A1") == []

    # Act / Assert
    run_venue(scenario)
    assert outcomes == ["order_submission failed, open 2", "order_submission failed, open 2", "closed"]


def test_close_always_fails_when_injected_then_every_close_fails_until_cleared_and_other_orders_pass() -> None:
    # Arrange
    async def scenario(venue: PaperVenue, clock: ManualClock) -> None:
        await venue.place_order(market("buy", "2"))
        venue.faults.close_always_fails = True
        venue.faults.close_error = OrderRejected
        for _ in range(5):
            with pytest.raises(OrderRejected, match="closes always fail"):
                await venue.close_position("A1", "MNQ", D("1"))
        await venue.place_order(market("sell", "1"))  # an ordinary order still goes through
        venue.faults.close_always_fails = False
        await venue.close_position("A1", "MNQ")
        assert await venue.positions("A1") == []

    # Act / Assert
    _, events = run_venue(scenario)
    assert [f.qty for f in of(Fill, events)] == [D("2"), D("1"), D("1")]
