"""The paper venue: the matching simulator behind the venue contract, in-process, with a price
loop in real time and faults that can be injected while it runs.

Every `step_interval` the loop moves every instrument one step of its seeded random walk and
lets the simulator work the orders against it. Events go to one `asyncio.Queue` that `events()`
reads. While the connection is down (`disconnect`) the market goes on: orders still fill, but
their events are lost, as a dropped websocket loses them, and every call raises
`VenueUnavailable` until `reconnect`; the daemon catches up with `fills_since`, `positions`
and `account`, as it must with a real venue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core._validate import require_utc
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.orders import OrderRequest
from riskguard.instruments_catalog import DEFAULT_INSTRUMENTS
from riskguard.venues.base import CallClass, ConnectionChanged, OrderRejected, VenueEvent, VenueUnavailable
from riskguard.venues.paper.faults import Faults
from riskguard.venues.paper.matching import MatchingSimulator, PaperAccount
from riskguard.venues.paper.prices import PriceWalk

__all__ = ["PaperConfig", "PaperVenue"]

logger = logging.getLogger(__name__)

_SUBMIT, _READS, _PRICES = CallClass.ORDER_SUBMISSION, CallClass.ACCOUNT_READS, CallClass.PRICE_READS


def _default_accounts() -> tuple[PaperAccount, ...]:
    return (PaperAccount("PAPER-USD", Decimal(50_000), "USD"), PaperAccount("PAPER-USDC", Decimal(10_000), "USDC"))


@dataclass(frozen=True, slots=True)
class PaperConfig:
    """Where the paper market starts. The defaults are the demo `riskguard run` shows: a USD
    futures account trading MNQ and a USDC account trading BTC-PERP. Every mapping is keyed by
    symbol and must name only configured instruments."""

    accounts: tuple[PaperAccount, ...] = field(default_factory=_default_accounts)
    instruments: tuple[Instrument, ...] = (DEFAULT_INSTRUMENTS["MNQ"], DEFAULT_INSTRUMENTS["BTC-PERP"])
    start_prices: Mapping[str, Decimal] = field(
        default_factory=lambda: {"MNQ": Decimal("20000.00"), "BTC-PERP": Decimal("60000.0")}
    )
    # The same seed gives the same prices, step for step.
    seed: int = 0
    # How often the price loop steps; None: prices move only when step() is called.
    step_interval: timedelta | None = timedelta(seconds=1)
    # The largest move per step, in ticks; a symbol left out moves up to ~1 bp of its start price.
    volatility_ticks: Mapping[str, int] = field(default_factory=dict)
    # A market buy pays the price + this many ticks; a market sell gets the price - this many.
    half_spread_ticks: int = 1
    # Per contract or coin, on each side, in the instrument's currency.
    fee_per_unit: Mapping[str, Decimal] = field(
        default_factory=lambda: {"MNQ": Decimal("0.62"), "BTC-PERP": Decimal("27")}
    )
    # An order fills at most this much per step; a symbol left out fills in one go.
    max_qty_per_step: Mapping[str, Decimal] = field(default_factory=dict)
    name: str = "paper"
    # Order ids are P-1, P-2, ...; fill ids P-1.1, P-1.2, ... Give each venue session its own
    # prefix if fills are kept across restarts, or the ids repeat.
    id_prefix: str = "P"
    # The strategy the venue's own orders (closes, stops) report.
    venue_strategy: str = "riskguard"

    def price_walks(self) -> dict[str, PriceWalk]:
        """One walk per instrument, each on its own stream of the seed."""
        for symbol in self.volatility_ticks:
            if symbol not in {i.symbol for i in self.instruments}:
                raise InvalidInput("volatility_ticks", symbol, "names no instrument of the paper venue")
        return {
            i.symbol: PriceWalk(
                i,
                self.start_prices[i.symbol],
                f"{self.seed}:{i.symbol}",
                self.volatility_ticks.get(i.symbol, _one_basis_point(i, self.start_prices[i.symbol])),
            )
            for i in self.instruments
        }

    def simulator(self) -> MatchingSimulator:
        return MatchingSimulator(
            self.instruments,
            self.accounts,
            self.start_prices,
            half_spread_ticks=self.half_spread_ticks,
            fee_per_unit=self.fee_per_unit,
            max_qty_per_step=self.max_qty_per_step,
            id_prefix=self.id_prefix,
            venue_strategy=self.venue_strategy,
        )


def _one_basis_point(instrument: Instrument, start: Decimal) -> int:
    """A default step size: about 1 bp of the start price, in whole ticks (at least one)."""
    return max(1, int(Decimal(start).scaleb(-4) // instrument.tick_size))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PaperVenue:
    """A `VenueAdapter` over a `MatchingSimulator`. `faults` may be changed at any time."""

    def __init__(self, config: PaperConfig | None = None, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.config = config or PaperConfig()
        self.name = self.config.name
        self.faults = Faults()
        self._clock = clock
        self._simulator = self.config.simulator()  # checks the start prices before the walks use them
        self._walks = self.config.price_walks()
        self._queue: asyncio.Queue[VenueEvent | None] = asyncio.Queue()
        self._connected = False
        self._closed = False
        self._outage: str | None = None  # why the venue is down, while an injected outage lasts
        self._prices_task: asyncio.Task[None] | None = None
        self._cancel_at: dict[str, datetime] = {}  # the dead man's switch, per account
        self._reconnect_timer: asyncio.TimerHandle | None = None

    @property
    def simulator(self) -> MatchingSimulator:
        """The market itself, for tests and the demo to inspect (not to trade through)."""
        return self._simulator

    @property
    def connected(self) -> bool:
        return self._connected

    # -- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Go online (ConnectionChanged, then a mark per instrument) and start the price loop.
        Refused while an injected outage lasts, as a real venue that is down refuses."""
        if self._closed:
            raise VenueUnavailable("paper venue: closed; make a new PaperVenue", _READS)
        if self._outage is not None:
            raise VenueUnavailable(f"paper venue: connect failed: the venue is down ({self._outage})", _READS)
        if not self._connected:
            self._go_online("connected")
        if self.config.step_interval is not None and self._prices_task is None:
            self._prices_task = asyncio.create_task(self._run_prices(self.config.step_interval), name="paper-prices")

    async def close(self) -> None:
        """Stop the price loop and end `events()`. A closed venue stays closed."""
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
        if self._prices_task is not None:
            self._prices_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prices_task
            self._prices_task = None
        if not self._closed:
            self._closed = True
            self._connected = False
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[VenueEvent]:
        while (event := await self._queue.get()) is not None:
            yield event

    # -- the market and the faults that need events ----------------------------------------

    def step(self) -> list[VenueEvent]:
        """Move every instrument one step now and work the orders; what the loop calls."""
        ts = self._now()
        events = self._fire_dead_mans_switch(ts)
        for walk in self._walks.values():
            events += self._simulator.on_mark(walk.step(ts))
        self._publish(events)
        return events

    def move_price(self, symbol: str, price: Decimal) -> list[VenueEvent]:
        """Set one instrument's price outright and work its orders (a test or demo moving the market)."""
        walk = self._walks.get(symbol)
        if walk is None:
            raise OrderRejected(f"symbol {symbol!r} is not traded at the paper venue", _PRICES)
        events = self._simulator.on_mark(walk.jump(price, self._now()))
        self._publish(events)
        return events

    def disconnect(self, reason: str = "injected disconnect", duration: timedelta | None = None) -> None:
        """Take the venue down: ConnectionChanged(connected=False), and every call and `connect`
        fail until `reconnect`, or, with `duration`, until that long has passed (needs a running
        event loop)."""
        if not self._connected:
            return
        self._connected = False
        self._outage = reason
        self._queue.put_nowait(ConnectionChanged(self.name, False, self._now(), reason))
        if duration is not None:
            loop = asyncio.get_running_loop()
            self._reconnect_timer = loop.call_later(duration.total_seconds(), self.reconnect)

    def reconnect(self) -> None:
        """End the outage and restore the connection: ConnectionChanged(connected=True), then the
        current marks."""
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None
        self._outage = None
        if not self._connected and not self._closed:
            self._go_online("reconnected")

    # -- commands --------------------------------------------------------------------------

    async def place_order(self, order: OrderRequest) -> str:
        placed = self._simulator.place(order, await self._call(_SUBMIT, "place_order"))
        self._publish(placed.events)
        return placed.order_id

    async def close_position(
        self, account: str, symbol: str, qty: Decimal | None = None, *, client_id: str | None = None
    ) -> None:
        ts = await self._call(_SUBMIT, "close_position", closing=True)
        self._publish(self._simulator.close_position(account, symbol, qty, ts, client_id).events)

    async def cancel_order(self, account: str, order_id: str) -> None:
        self._publish(self._simulator.cancel(account, order_id, await self._call(_SUBMIT, "cancel_order")))

    async def cancel_all(self, account: str, symbol: str | None = None) -> None:
        self._publish(self._simulator.cancel_all(account, symbol, await self._call(_SUBMIT, "cancel_all")))

    async def place_stop(
        self,
        account: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        stop_price: Decimal,
        *,
        client_id: str | None = None,
    ) -> str:
        ts = await self._call(_SUBMIT, "place_stop")
        placed = self._simulator.place_stop(account, symbol, side, qty, stop_price, ts, client_id)
        self._publish(placed.events)
        return placed.order_id

    async def modify_stop(self, account: str, order_id: str, stop_price: Decimal) -> None:
        ts = await self._call(_SUBMIT, "modify_stop")
        self._publish(self._simulator.modify_stop(account, order_id, stop_price, ts))

    async def schedule_cancel(self, account: str, at: datetime | None) -> None:
        """The dead man's switch (HyperLiquid's ``scheduleCancel``): unless called again before
        `at`, every working order of the account is cancelled at the first price step after it;
        None disarms it."""
        ts = await self._call(_SUBMIT, "schedule_cancel")
        self._simulator.snapshot(account, ts)  # an unknown account is refused
        if at is None:
            self._cancel_at.pop(account, None)
            return
        try:
            self._cancel_at[account] = require_utc("at", at)
        except InvalidInput as exc:
            raise OrderRejected(str(exc)) from exc

    # -- queries ---------------------------------------------------------------------------

    async def accounts(self) -> list[str]:
        await self._call(_READS, "accounts")
        return self._simulator.accounts()

    async def account(self, account: str) -> AccountSnapshot:
        return self._simulator.snapshot(account, await self._call(_READS, "account"))

    async def positions(self, account: str) -> list[PositionReported]:
        return self._simulator.positions(account, await self._call(_READS, "positions"))

    async def open_orders(self, account: str) -> list[OrderUpdated]:
        return self._simulator.open_orders(account, await self._call(_READS, "open_orders"))

    async def fills_since(self, account: str, since: datetime) -> list[Fill]:
        await self._call(_READS, "fills_since")
        try:
            checked = require_utc("since", since)
        except InvalidInput as exc:
            raise OrderRejected(str(exc), _READS) from exc
        return self._simulator.fills(account, checked)

    async def last_mark(self, symbol: str) -> MarkUpdated:
        """The current price of `symbol` (not in the contract: a price read, for the PRICE_READS faults)."""
        ts = await self._call(_PRICES, "last_mark")
        return MarkUpdated(symbol, self._simulator.price(symbol), ts)

    # -- plumbing --------------------------------------------------------------------------

    async def _call(self, call_class: CallClass, call: str, *, closing: bool = False) -> datetime:
        """Let a call through, or fail it as the faults say; return the time it is answered at."""
        self._require_connected(call_class, call)
        if self.faults.delay > timedelta(0):
            await asyncio.sleep(self.faults.delay.total_seconds())
            self._require_connected(call_class, call)
        failure = self.faults.failure(call_class, call, closing=closing)
        if failure is not None:
            raise failure
        return self._now()

    def _require_connected(self, call_class: CallClass, call: str) -> None:
        if not self._connected:
            state = "closed" if self._closed else "not connected"
            raise VenueUnavailable(f"paper venue: {call} failed: the venue is {state}", call_class)

    def _fire_dead_mans_switch(self, ts: datetime) -> list[VenueEvent]:
        events: list[VenueEvent] = []
        for account, at in list(self._cancel_at.items()):
            if ts >= at:
                del self._cancel_at[account]
                logger.warning("paper venue: dead man's switch fired for %s: cancelling its orders", account)
                events += self._simulator.cancel_all(account, None, ts)
        return events

    def _go_online(self, reason: str) -> None:
        ts = self._now()
        self._connected = True
        self._queue.put_nowait(ConnectionChanged(self.name, True, ts, reason))
        self._publish([MarkUpdated(symbol, self._simulator.price(symbol), ts) for symbol in self._walks])

    def _publish(self, events: list[VenueEvent]) -> None:
        """Queue the events, or lose them while the connection is down."""
        if self._connected:
            for event in events:
                self._queue.put_nowait(event)

    async def _run_prices(self, interval: timedelta) -> None:
        """Step the market until cancelled. A step that fails is a bug in the simulator: the loop
        stops and the link drops, so the daemon fails closed instead of trading on a frozen market."""
        while True:
            await asyncio.sleep(interval.total_seconds())
            try:
                self.step()
            except Exception as exc:
                logger.exception("paper venue: a price step failed; the price loop stops")
                self.disconnect(f"the paper market stopped: a price step failed ({exc})")
                return

    def _now(self) -> datetime:
        return require_utc("clock", self._clock())
