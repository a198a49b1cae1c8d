"""The paper venue over the wire: a `PaperVenueServer` in the test's loop on a free loopback port,
a `RemotePaperVenue` trading through it and another on /control injecting faults and outages,
and once the `riskguard paper-venue` command as its own process.

Prices with the default PaperConfig: MNQ starts at 20000.00, a market order pays one tick
(0.25) of half spread, and the fee is 0.62 a contract; prices move only when a test moves them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import OrderType, Side
from riskguard.core.events import MarkUpdated, OrderStatus, OrderUpdated
from riskguard.core.fills import Fill
from riskguard.core.money import Quantity
from riskguard.core.orders import OrderRequest
from riskguard.venues.base import (
    CallClass,
    ConnectionChanged,
    OrderNotWorking,
    OrderRejected,
    RateLimited,
    VenueAdapter,
    VenueError,
    VenueEvent,
    VenueUnavailable,
)
from riskguard.venues.paper import PaperConfig, PaperVenue
from riskguard.venues.paper.load import TraderLoad
from riskguard.venues.paper.remote import RemotePaperVenue
from riskguard.venues.paper.server import PaperVenueServer

pytestmark = pytest.mark.asyncio

D = Decimal
E = TypeVar("E")
COMMAND = [sys.executable, "-m", "riskguard", "paper-venue"]
WAIT = 5.0  # seconds any one expected event or answer may take


class Stream:
    """One adapter's event stream, read up to the next event of a kind (or failing after WAIT)."""

    def __init__(self, venue: RemotePaperVenue) -> None:
        self._events = venue.events()
        self.seen: list[VenueEvent] = []

    async def next(self, kind: type[E], timeout: float = WAIT) -> E:
        async with asyncio.timeout(timeout):
            async for event in self._events:
                self.seen.append(event)
                if isinstance(event, kind):
                    return event
        raise AssertionError(f"the stream ended before a {kind.__name__}; saw {self.seen}")

    async def close(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]


@pytest_asyncio.fixture
async def server() -> AsyncIterator[PaperVenueServer]:
    served = PaperVenueServer(PaperVenue(PaperConfig(step_interval=None)))
    await served.start()
    try:
        yield served
    finally:
        await served.stop()


async def _opened(url: str, call_timeout: float = WAIT) -> RemotePaperVenue:
    venue = RemotePaperVenue(url, call_timeout=call_timeout)
    await venue.connect()
    return venue


@pytest_asyncio.fixture
async def remote(server: PaperVenueServer) -> AsyncIterator[RemotePaperVenue]:
    venue = await _opened(server.url)
    try:
        yield venue
    finally:
        await venue.close()


@pytest_asyncio.fixture
async def stream(remote: RemotePaperVenue) -> AsyncIterator[Stream]:
    events = Stream(remote)
    try:
        yield events
    finally:
        await events.close()


@pytest_asyncio.fixture
async def control(server: PaperVenueServer) -> AsyncIterator[RemotePaperVenue]:
    venue = await _opened(server.control_url)
    try:
        yield venue
    finally:
        await venue.close()


def order(side: Side, qty: str, *, order_type: OrderType = OrderType.MARKET, price: str | None = None) -> OrderRequest:
    return OrderRequest(
        "c-1",
        "PAPER-USD",
        "s1",
        "MNQ",
        side,
        order_type,
        Quantity(qty),
        datetime.now(UTC),
        price=None if price is None else D(price),  # type: ignore[arg-type]
    )


def resting_buy() -> OrderRequest:
    """A buy limit 10 points under the market: it rests until the price comes down to it."""
    return order(Side.BUY, "1", order_type=OrderType.LIMIT, price="19990.00")


def an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


# -- the contract and the stream ---------------------------------------------------------------


async def test_remote_when_checked_against_the_contract_then_it_is_a_venue_adapter() -> None:
    assert isinstance(RemotePaperVenue("ws://127.0.0.1:9"), VenueAdapter)


async def test_connect_when_opened_then_the_stream_starts_with_the_link_and_the_current_marks(
    stream: Stream,
) -> None:
    # Act
    first = await stream.next(ConnectionChanged)
    marks = [await stream.next(MarkUpdated), await stream.next(MarkUpdated)]
    # Assert
    assert (first.venue, first.connected, first.reason) == ("paper", True, "connected")
    assert [(m.symbol, m.price) for m in marks] == [("MNQ", D("20000.00")), ("BTC-PERP", D("60000.0"))]
    assert stream.seen == [first, *marks]


async def test_connect_when_nothing_listens_then_venue_unavailable() -> None:
    venue = RemotePaperVenue("ws://127.0.0.1:9", call_timeout=2.0)
    with pytest.raises(VenueUnavailable, match=r"cannot connect to ws://127\.0\.0\.1:9") as caught:
        await venue.connect()
    assert caught.value.call_class is CallClass.ACCOUNT_READS
    await venue.close()


async def test_place_order_when_market_buy_then_the_fill_arrives_and_the_queries_agree(
    remote: RemotePaperVenue, stream: Stream
) -> None:
    # Act
    order_id = await remote.place_order(order(Side.BUY, "2"))
    fill = await stream.next(Fill)
    # Assert: bought 2 at 20000.00 + 0.25, fees 2 x 0.62; equity marks at 20000.00: -0.25 x 2 x 2 = -1.00
    assert order_id == "P-1"
    assert (fill.fill_id, fill.order_id, fill.account, fill.strategy) == ("P-1.1", "P-1", "PAPER-USD", "s1")
    assert (fill.side, fill.qty, fill.price, fill.fee) == (Side.BUY, D("2"), D("20000.25"), D("1.24"))
    assert type(fill.fee) is Decimal
    snapshot = await stream.next(AccountSnapshot)
    assert (snapshot.balance, snapshot.equity) == (D("49998.76"), D("49997.76"))
    assert await remote.fills_since("PAPER-USD", an_hour_ago()) == [fill]
    assert await remote.fills_since("PAPER-USD", datetime.now(UTC) + timedelta(minutes=1)) == []
    account = await remote.account("PAPER-USD")
    assert (account.balance, account.equity, account.currency) == (D("49998.76"), D("49997.76"), "USD")
    assert [(p.account, p.symbol, p.net_qty) for p in await remote.positions("PAPER-USD")] == [
        ("PAPER-USD", "MNQ", D("2"))
    ]
    assert await remote.open_orders("PAPER-USD") == []
    assert await remote.accounts() == ["PAPER-USD", "PAPER-USDC"]
    assert (await remote.last_mark("MNQ")).price == D("20000.00")


async def test_stops_and_cancels_when_sent_over_the_wire_then_the_venue_carries_them_out(
    remote: RemotePaperVenue, control: RemotePaperVenue
) -> None:
    # Arrange: long 1 at 20000.25, and a buy limit resting under the market
    await remote.place_order(order(Side.BUY, "1"))
    resting = await remote.place_order(resting_buy())
    # Act
    stop_id = await remote.place_stop("PAPER-USD", "MNQ", Side.SELL, D("1"), D("19980.00"), client_id="stop-1")
    again = await remote.place_stop("PAPER-USD", "MNQ", Side.SELL, D("1"), D("19980.00"), client_id="stop-1")
    await remote.modify_stop("PAPER-USD", stop_id, D("19995.00"))
    working = await remote.open_orders("PAPER-USD")
    await remote.cancel_order("PAPER-USD", resting)
    await control.call("market.move_price", {"symbol": "MNQ", "price": "19995.00"})
    # Assert: the stop (moved up to 19995.00) sold 1 at 19995.00 - 0.25
    assert again == stop_id
    assert [(o.order_id, o.order_type, o.stop_price) for o in working] == [
        (resting, OrderType.LIMIT, None),
        (stop_id, OrderType.STOP, D("19995.00")),
    ]
    fills = await remote.fills_since("PAPER-USD", an_hour_ago())
    assert [(f.order_id, f.side, f.price) for f in fills] == [
        ("P-1", Side.BUY, D("20000.25")),
        (stop_id, Side.SELL, D("19994.75")),
    ]
    assert await remote.positions("PAPER-USD") == []
    await remote.cancel_all("PAPER-USD", "MNQ")  # nothing left is fine


async def test_cancel_when_the_order_has_filled_then_order_not_working_crosses_the_wire(
    remote: RemotePaperVenue,
) -> None:
    # Arrange: a market order fills at once
    filled = await remote.place_order(order(Side.BUY, "1"))
    # Act / Assert: the executor takes this as a cancel whose goal is reached
    with pytest.raises(OrderNotWorking, match=f"order {filled} is already filled; it is no longer working"):
        await remote.cancel_order("PAPER-USD", filled)


# -- errors --------------------------------------------------------------------------------------

Call = Callable[[RemotePaperVenue], Awaitable[Any]]


@pytest.mark.parametrize(
    ("faults", "call", "error", "call_class", "message"),
    [
        (
            {"rate_limited": 1},
            lambda venue: venue.place_order(order(Side.BUY, "1")),
            RateLimited,
            CallClass.ORDER_SUBMISSION,
            "paper venue: place_order rate limited (injected 429)",
        ),
        (
            {"unavailable": {"account_reads": 1}},
            lambda venue: venue.positions("PAPER-USD"),
            VenueUnavailable,
            CallClass.ACCOUNT_READS,
            "paper venue: positions failed with an injected 5xx",
        ),
        (
            {"unavailable": {"price_reads": 1}},
            lambda venue: venue.last_mark("MNQ"),
            VenueUnavailable,
            CallClass.PRICE_READS,
            "paper venue: last_mark failed with an injected 5xx",
        ),
        (
            {"close_failures": 1, "close_error": "rejected"},
            lambda venue: venue.close_position("PAPER-USD", "MNQ"),
            OrderRejected,
            CallClass.ORDER_SUBMISSION,
            "paper venue: close_position failed (injected; 0 more failures to come)",
        ),
        (
            {},
            lambda venue: venue.fills_since("NOPE", an_hour_ago()),
            OrderRejected,
            CallClass.ACCOUNT_READS,
            "account 'NOPE' is not an account of the paper venue (it has PAPER-USD, PAPER-USDC)",
        ),
    ],
    ids=["rate_limited", "unavailable_account_reads", "unavailable_price_reads", "close_rejected", "rejected"],
)
async def test_call_when_the_venue_fails_it_then_the_same_error_class_and_call_class_arrive(
    remote: RemotePaperVenue,
    control: RemotePaperVenue,
    faults: dict[str, Any],
    call: Call,
    error: type[VenueError],
    call_class: CallClass,
    message: str,
) -> None:
    # Arrange
    await control.call("faults.set", faults)
    # Act
    with pytest.raises(VenueError) as caught:
        await call(remote)
    # Assert
    assert type(caught.value) is error
    assert caught.value.call_class is call_class
    assert str(caught.value) == message
    assert (await control.call("faults.set"))["rate_limited"] == 0  # the injected failure was used up


async def test_faults_set_when_given_fields_then_only_those_change_and_clear_resets_them(
    control: RemotePaperVenue,
) -> None:
    # Act
    first = await control.call("faults.set", {"close_always_fails": True, "delay_seconds": 0.5})
    second = await control.call("faults.set", {"unavailable": {"order_submission": 2}})
    cleared = await control.call("faults.clear")
    # Assert
    assert second == {
        "rate_limited": 0,
        "unavailable": {"order_submission": 2},
        "delay_seconds": 0.5,
        "close_failures": 0,
        "close_always_fails": True,
        "close_error": "unavailable",
    }
    assert first == {**second, "unavailable": {}}
    assert cleared == {**second, "unavailable": {}, "delay_seconds": 0.0, "close_always_fails": False}


async def test_close_position_when_the_same_client_id_is_sent_twice_then_it_closes_once(
    remote: RemotePaperVenue, control: RemotePaperVenue
) -> None:
    # Arrange: long 2 at 20000.25
    await remote.place_order(order(Side.BUY, "2"))
    # Act: the action is sent, and sent again as if resumed after a crash
    await remote.close_position("PAPER-USD", "MNQ", client_id="act-1")
    await remote.close_position("PAPER-USD", "MNQ", client_id="act-1")
    # Assert: one close, selling 2 at 20000.00 - 0.25
    fills = await control.call("audit.fills", {"account": "PAPER-USD"})
    assert [(f["side"], f["qty"], f["price"], f["fee"], f["strategy"]) for f in fills] == [
        ("buy", "2", "20000.25", "1.24", "s1"),
        ("sell", "2", "19999.75", "1.24", "s1"),
    ]
    assert await control.call("audit.repeated_client_ids") == ["act-1"]
    assert await remote.positions("PAPER-USD") == []


async def test_call_when_the_venue_is_slower_than_call_timeout_then_venue_unavailable_names_the_timeout(
    server: PaperVenueServer, control: RemotePaperVenue
) -> None:
    # Arrange
    impatient = await _opened(server.url, call_timeout=0.3)
    try:
        await control.call("faults.set", {"delay_seconds": 2.0})
        loop = asyncio.get_running_loop()
        started = loop.time()
        # Act
        with pytest.raises(VenueUnavailable, match=r"accounts timed out: no answer from .* within 0.3 s") as caught:
            await impatient.accounts()
        # Assert: failed at the timeout, not when the venue answered; and the link is still good
        assert caught.value.call_class is CallClass.ACCOUNT_READS
        assert loop.time() - started < 1.5
        await control.call("faults.set", {"delay_seconds": 0})
        assert await impatient.accounts() == ["PAPER-USD", "PAPER-USDC"]
    finally:
        await impatient.close()


async def test_calls_when_one_is_slow_then_others_and_the_events_are_not_held_up(
    remote: RemotePaperVenue, stream: Stream, control: RemotePaperVenue
) -> None:
    # Arrange: every venue call now takes 1 s
    await control.call("faults.set", {"delay_seconds": 1.0})
    loop = asyncio.get_running_loop()
    started = loop.time()
    slow = asyncio.create_task(remote.accounts())
    await asyncio.sleep(0.05)
    # Act: an audit call and a market move while the slow call waits
    await control.call("audit.repeated_client_ids")
    await control.call("market.move_price", {"symbol": "MNQ", "price": "20001.00"})
    while (mark := await stream.next(MarkUpdated)).price != D("20001.00"):
        pass
    # Assert
    assert loop.time() - started < 0.8
    assert not slow.done()
    assert mark.symbol == "MNQ"
    assert await slow == ["PAPER-USD", "PAPER-USDC"]


# -- outages ------------------------------------------------------------------------------------


async def test_disconnect_when_the_venue_goes_down_then_calls_fail_and_reconnect_catches_up(
    server: PaperVenueServer, remote: RemotePaperVenue, stream: Stream, control: RemotePaperVenue
) -> None:
    # Arrange: a buy limit at 19990.00 rests
    await stream.next(ConnectionChanged)
    order_id = await remote.place_order(resting_buy())
    # Act: the venue goes down; the market reaches the limit while it is down
    await control.call("venue.disconnect", {"reason": "drill outage"})
    down = await stream.next(ConnectionChanged)
    with pytest.raises(VenueUnavailable, match=r"positions failed: the link to .* is down") as caught:
        await remote.positions("PAPER-USD")
    with pytest.raises(VenueUnavailable, match="HTTP 503 the paper venue is down: drill outage"):
        await _opened(server.url)
    await control.call("market.move_price", {"symbol": "MNQ", "price": "19989.00"})
    await control.call("venue.reconnect")
    up = await stream.next(ConnectionChanged, timeout=10.0)
    # Assert: the fill's events were lost; catch-up finds it (bought 1 at the limit, fee 0.62)
    assert (down.connected, down.reason) == (False, "drill outage")
    assert caught.value.call_class is CallClass.ACCOUNT_READS
    assert (up.connected, up.reason) == (True, "reconnected")
    assert not [e for e in stream.seen if isinstance(e, Fill)]
    fills = await remote.fills_since("PAPER-USD", an_hour_ago())
    assert [(f.order_id, f.side, f.qty, f.price, f.fee) for f in fills] == [
        (order_id, Side.BUY, D("1"), D("19990.00"), D("0.62"))
    ]
    assert [p.net_qty for p in await remote.positions("PAPER-USD")] == [D("1")]
    assert (await stream.next(MarkUpdated)).price == D("19989.00")  # the marks again, as on connect


async def test_server_stop_when_clients_are_connected_then_they_see_the_link_drop(
    server: PaperVenueServer, remote: RemotePaperVenue, stream: Stream
) -> None:
    # Act
    await stream.next(ConnectionChanged)
    await server.stop()
    down = await stream.next(ConnectionChanged)
    # Assert
    assert (down.connected, down.reason) == (False, "the paper venue server is stopping")
    with pytest.raises(VenueUnavailable):
        await remote.accounts()


# -- the dead man's switch ----------------------------------------------------------------------


async def test_schedule_cancel_when_the_deadline_passes_then_the_next_step_cancels_working_orders(
    remote: RemotePaperVenue, stream: Stream, control: RemotePaperVenue
) -> None:
    # Arrange: a resting buy, and a switch armed for a minute from now
    order_id = await remote.place_order(resting_buy())
    await remote.schedule_cancel("PAPER-USD", datetime.now(UTC) + timedelta(minutes=1))
    await control.call("market.step")
    assert [o.order_id for o in await remote.open_orders("PAPER-USD")] == [order_id]
    # Act: re-armed with a deadline that has passed by the next step
    await remote.schedule_cancel("PAPER-USD", datetime.now(UTC))
    await control.call("market.step")
    # Assert
    while (update := await stream.next(OrderUpdated)).status is not OrderStatus.CANCELLED:
        pass
    assert (update.order_id, update.reason) == (order_id, "cancelled on request (cancel all)")
    assert await remote.open_orders("PAPER-USD") == []


async def test_schedule_cancel_when_disarmed_then_the_step_leaves_orders_working(
    remote: RemotePaperVenue, control: RemotePaperVenue
) -> None:
    order_id = await remote.place_order(resting_buy())
    await remote.schedule_cancel("PAPER-USD", datetime.now(UTC))
    await remote.schedule_cancel("PAPER-USD", None)
    await control.call("market.step")
    assert [o.order_id for o in await remote.open_orders("PAPER-USD")] == [order_id]


# -- the protocol -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "answer_id", "message"),
    [
        ("not json", None, "paper venue: malformed request: not JSON (Expecting value at character 0)"),
        ("[1, 2]", None, "paper venue: malformed request: message was list: must be a JSON object"),
        (
            {"id": "7", "method": "accounts"},
            None,
            "paper venue: malformed request: request id was '7': must be an integer",
        ),
        (
            {"id": 1, "method": "accounts", "params": {}, "extra": 1},
            1,
            "paper venue: malformed request: request: 'extra' is not a request key (allowed: id, method, params)",
        ),
        ({"id": 2, "method": "nope"}, 2, "paper venue: unknown method 'nope' (known: "),
        (
            {"id": 3, "method": "place_stop", "params": {"account": "PAPER-USD"}},
            3,
            "paper venue: place_stop: params.symbol is required",
        ),
        (
            {"id": 4, "method": "close_position", "params": {"account": "PAPER-USD", "symbol": "MNQ", "qty": 1.5}},
            4,
            "paper venue: close_position: params.qty was 1.5: must be given as a string or an integer, not a float",
        ),
        (
            {"id": 5, "method": "accounts", "params": {"account": "PAPER-USD"}},
            5,
            "paper venue: accounts: params.account is not a parameter of accounts",
        ),
        (
            {"id": 6, "method": "faults.set", "params": {"close_error": "boom"}},
            6,
            "paper venue: faults.set: params.close_error was 'boom': must be one of: unavailable, rejected",
        ),
    ],
    ids=["not_json", "not_an_object", "bad_id", "unknown_key", "unknown_method", "missing", "float", "extra", "choice"],
)
async def test_request_when_malformed_then_a_rejection_names_what_is_wrong(
    server: PaperVenueServer, frame: Any, answer_id: int | None, message: str
) -> None:
    # Arrange
    async with connect(server.url, proxy=None) as socket:
        # Act
        await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
        async with asyncio.timeout(WAIT):
            answer = json.loads(await socket.recv())
            while "event" in answer:  # the marks on connect
                answer = json.loads(await socket.recv())
    # Assert
    assert answer["id"] == answer_id
    assert answer["error"]["kind"] == "rejected"
    assert answer["error"]["message"].startswith(message)


async def test_call_when_malformed_through_the_adapter_then_order_rejected_with_the_methods_class(
    remote: RemotePaperVenue,
) -> None:
    with pytest.raises(OrderRejected, match=r"fills_since: params.since was .*must carry a timezone") as caught:
        await remote.fills_since("PAPER-USD", datetime(2026, 3, 6))
    assert caught.value.call_class is CallClass.ACCOUNT_READS


# -- the trader beside the daemon ---------------------------------------------------------------


async def test_trader_load_when_trading_then_small_manual_market_orders_fill_the_same_way_per_seed() -> None:
    # Arrange
    async def trades(seed: int) -> list[tuple[str, str, Side, Decimal]]:
        venue = PaperVenue(PaperConfig(step_interval=None))
        await venue.connect()
        try:
            load = TraderLoad(venue, every=0.01, seed=seed)
            for _ in range(12):
                await load.trade_once()
            assert load.placed == 12
            fills = venue.simulator.fills("PAPER-USD") + venue.simulator.fills("PAPER-USDC")
            assert {f.strategy for f in fills} == {"manual"}
            return sorted((f.account, f.symbol, f.side, f.qty) for f in fills)
        finally:
            await venue.close()

    # Act
    first, again, other = await trades(1), await trades(1), await trades(2)
    # Assert
    assert first == again != other
    assert {(account, symbol) for account, symbol, _, _ in first} == {("PAPER-USD", "MNQ"), ("PAPER-USDC", "BTC-PERP")}
    assert {qty for _, symbol, _, qty in first if symbol == "MNQ"} <= {D("1"), D("2")}
    assert {qty for _, symbol, _, qty in first if symbol == "BTC-PERP"} <= {D("0.001"), D("0.002")}


async def test_trader_load_when_a_counted_fault_is_armed_then_it_holds_off_and_leaves_it_for_the_daemon() -> None:
    venue = PaperVenue(PaperConfig(step_interval=None))
    await venue.connect()
    try:
        venue.faults.rate_limited = 1
        load = TraderLoad(venue, every=0.01)
        assert await load.trade_once() is None
        assert venue.faults.rate_limited == 1
        venue.faults.rate_limited = 0
        load.start()
        await asyncio.sleep(0.2)
        await load.stop()
        assert load.placed > 0
    finally:
        await venue.close()


# -- the command -------------------------------------------------------------------------------


async def test_paper_venue_command_when_run_with_port_zero_then_serves_the_bound_port_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    # Arrange
    port_file, log_file = tmp_path / "port", tmp_path / "venue.log"
    options = ["--port", "0", "--port-file", str(port_file), "--json-logs", "--step-seconds", "0.1", "--trader-every"]
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [*COMMAND, *options, "0.1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        async with asyncio.timeout(30):
            while not port_file.exists():
                assert process.poll() is None, log_file.read_text()
                await asyncio.sleep(0.05)
        port = int(port_file.read_text())
        # Act
        venue = await _opened(f"ws://127.0.0.1:{port}")
        events = Stream(venue)
        try:
            accounts = await venue.accounts()
            fill = await events.next(Fill, timeout=10.0)  # the trader's
        finally:
            await events.close()
            await venue.close()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    # Assert
    assert accounts == ["PAPER-USD", "PAPER-USDC"]
    assert fill.strategy == "manual"
    assert fill.order_id.startswith("P1")  # P<unix time>-n: this start's own ids
    assert code == 0, log_file.read_text()
    logged = [json.loads(line)["event"] for line in log_file.read_text().splitlines() if line.startswith("{")]
    assert logged[0] == "paper venue serving"
    assert logged[-1] == "paper venue stopped"
