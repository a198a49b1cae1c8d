"""A human trader beside the daemon: random small market orders straight on the paper venue, the
steady flow of fills that the demo venue process and load tests need."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from riskguard.core.enums import OrderType, Side
from riskguard.core.money import Quantity
from riskguard.core.orders import OrderRequest
from riskguard.venues.base import VenueError
from riskguard.venues.paper.venue import PaperVenue

__all__ = ["DEFAULT_MARKETS", "TraderLoad", "TraderMarket"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TraderMarket(NamedTuple):
    """Where the trader trades, and the sizes it picks from."""

    account: str
    symbol: str
    quantities: tuple[Quantity, ...]


DEFAULT_MARKETS = (
    TraderMarket("PAPER-USD", "MNQ", (Quantity(1), Quantity(2))),
    TraderMarket("PAPER-USDC", "BTC-PERP", (Quantity("0.001"), Quantity("0.002"))),
)


class TraderLoad:
    """A human trader on the same venue: a small market order of a random side and size every
    `every` seconds (seeded), straight on the `PaperVenue`, refusals ignored: the steady flow of
    fills a crash test needs. It holds off while a counted fault (429s, 5xxs) is armed, so it never
    uses up failures injected for the daemon."""

    def __init__(
        self,
        venue: PaperVenue,
        every: float,
        seed: int = 0,
        markets: tuple[TraderMarket, ...] = DEFAULT_MARKETS,
        *,
        strategy: str = "manual",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not every > 0:
            raise ValueError(f"every was {every!r}: must be a number of seconds greater than zero")
        self.venue = venue
        self.every = every
        self.markets = markets
        self.strategy = strategy
        self.placed = 0  # orders the venue accepted
        self._rng = random.Random(seed)
        self._clock = clock
        self._count = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="paper-trader-load")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.trade_once()

    async def trade_once(self) -> str | None:
        """Place one order; its venue id, or None if it was held off or refused."""
        market = self._rng.choice(self.markets)
        side = self._rng.choice((Side.BUY, Side.SELL))
        qty = self._rng.choice(market.quantities)
        faults = self.venue.faults
        if faults.rate_limited > 0 or any(count > 0 for count in faults.unavailable.values()):
            return None
        self._count += 1
        order = OrderRequest(
            f"{self.strategy}-{self._count}",
            market.account,
            self.strategy,
            market.symbol,
            side,
            OrderType.MARKET,
            qty,
            self._clock(),
        )
        try:
            order_id = await self.venue.place_order(order)
        except VenueError:
            return None
        self.placed += 1
        return order_id
