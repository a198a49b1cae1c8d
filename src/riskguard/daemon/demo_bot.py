"""A small bot for the embedded default: it trades the paper market through the pre-trade gate.

It is careless on purpose, so the rules have something to do: now and then it asks for too
many contracts or forgets its stop, it adds to losers, and it trades often. Every order goes
through `Daemon.check` first; only approved orders reach the venue. Exits are sent reduce-only
and are always approved. Deterministic for a seed, apart from the market's timing.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import structlog

from riskguard.core.enums import OrderType, Side
from riskguard.core.orders import OrderRequest
from riskguard.daemon.gateway import send_approved
from riskguard.daemon.service import Daemon
from riskguard.venues.base import VenueError

__all__ = ["DemoBot", "DemoBotSettings"]

log = structlog.get_logger("riskguard.demo_bot")


@dataclass(frozen=True, slots=True)
class DemoBotSettings:
    account: str = "PAPER-USD"
    symbol: str = "MNQ"
    strategy: str = "demo"
    interval: float = 3.0  # seconds between decisions
    stop_ticks: int = 24  # how far its stop sits, when it remembers one
    seed: int = 7


class DemoBot:
    def __init__(self, daemon: Daemon, settings: DemoBotSettings | None = None) -> None:
        self.daemon = daemon
        self.settings = settings or DemoBotSettings()
        self._rng = random.Random(self.settings.seed)
        self._ids = itertools.count(1)
        self.approved = 0
        self.refused = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.interval)
            try:
                await self.step()
            except VenueError as exc:  # the venue said no or is away: try again next time
                log.warning("demo bot order not placed", error=str(exc))

    async def step(self) -> None:
        s = self.settings
        engine = self.daemon.guard.engine
        held = engine.view().net_qty(s.account, s.symbol)
        mark = engine.ledger.last_mark(s.symbol)
        if mark is None:
            return
        instrument = engine.ledger.instruments[s.symbol]
        roll = self._rng.random()
        if held != 0 and roll < 0.35:
            side = Side.SELL if held > 0 else Side.BUY
            await self._send(side, abs(held), mark.price, None, reduce_only=True)
            return
        side = Side.BUY if (held > 0 or (held == 0 and self._rng.random() < 0.5)) else Side.SELL
        qty = Decimal(self._rng.choice([1, 1, 2, 2, 3, 5]))  # 5 is more than the demo's max_contracts
        stop_distance = instrument.tick_size * s.stop_ticks
        stop = None if self._rng.random() < 0.15 else mark.price - side.sign * stop_distance  # sometimes forgotten
        await self._send(side, qty, mark.price, stop)

    async def _send(
        self, side: Side, qty: Decimal, price: Decimal, stop: Decimal | None, *, reduce_only: bool = False
    ) -> None:
        s = self.settings
        order = OrderRequest(
            f"demo-{next(self._ids)}",
            s.account,
            s.strategy,
            s.symbol,
            side,
            OrderType.MARKET,
            qty,  # type: ignore[arg-type]
            _now(),
            reduce_only=reduce_only,
            stop_loss=stop,  # type: ignore[arg-type]
        )
        decision = self.daemon.check(order)
        if not decision.approved:
            self.refused += 1
            log.info(
                "demo bot: order refused", order_id=order.order_id, code=decision.reason_code, why=decision.message
            )
            return
        self.approved += 1
        log.info("demo bot: order approved", order_id=order.order_id, side=side.value, qty=str(qty), stop=str(stop))
        await send_approved(self.daemon.venue, order)


def _now() -> datetime:
    return datetime.now(UTC)
