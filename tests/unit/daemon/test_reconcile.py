"""Reconciliation reads a venue that keeps trading: a fill landing mid-read is not a phantom."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskguard.core.engine import RiskEngine
from riskguard.core.enums import OrderType, Side
from riskguard.core.events import PositionReported
from riskguard.core.fills import Fill
from riskguard.core.orders import OrderRequest
from riskguard.daemon.reconcile import reconcile
from riskguard.instruments_catalog import DEFAULT_INSTRUMENTS
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

pytestmark = pytest.mark.asyncio

ACCOUNT = "PAPER-USD"


def buy(qty: str, order_id: str) -> OrderRequest:
    return OrderRequest(order_id, ACCOUNT, "s1", "MNQ", Side.BUY, OrderType.MARKET, Decimal(qty), datetime.now(UTC))  # type: ignore[arg-type]


class TradingWhileRead(PaperVenue):
    """A venue where a trade fills right after each of the first `trades` positions reads."""

    def __init__(self, trades: int) -> None:
        super().__init__(PaperConfig(step_interval=None))
        self.trades = trades

    async def positions(self, account: str) -> list[PositionReported]:
        answer = await super().positions(account)
        if account == ACCOUNT and self.trades > 0:
            self.trades -= 1
            self.simulator.place(buy("1", f"mid-read-{self.trades}"), datetime.now(UTC))
        return answer


async def test_reconcile_when_a_fill_lands_between_the_reads_then_read_again_and_no_phantom_is_booked() -> None:
    # Arrange: 2 MNQ at the venue the engine has not seen; one more fills during the first read
    venue = TradingWhileRead(trades=1)
    await venue.connect()
    venue.simulator.place(buy("2", "before"), datetime.now(UTC))
    engine = RiskEngine([], [DEFAULT_INSTRUMENTS["MNQ"], DEFAULT_INSTRUMENTS["BTC-PERP"]])
    # Act
    events, result = await reconcile(venue, engine, None, datetime.now(UTC), "start-up")
    # Assert: the second read was still; both fills caught up, the venue's 3 matches, nothing flagged
    fills = [e for e in events if isinstance(e, Fill)]
    assert [f.qty for f in fills] == [Decimal(2), Decimal(1)]
    assert (result.fills_caught_up, result.discrepancy_count, result.uncompared) == (2, 0, ())
    assert [(p.symbol, p.net_qty) for p in events if isinstance(p, PositionReported)] == [("MNQ", Decimal(3))]
    await venue.close()


async def test_reconcile_when_fills_land_during_every_read_then_caught_up_but_positions_not_compared() -> None:
    venue = TradingWhileRead(trades=100)
    await venue.connect()
    engine = RiskEngine([], [DEFAULT_INSTRUMENTS["MNQ"], DEFAULT_INSTRUMENTS["BTC-PERP"]])

    events, result = await reconcile(venue, engine, None, datetime.now(UTC), "periodic")

    # 5 reads, a fill after each positions read; the 5th read's closing fills read sees all 5
    assert result.fills_caught_up == 5
    assert (result.discrepancy_count, result.uncompared) == (0, (ACCOUNT,))
    assert not any(f.strategy == "recovered" for f in events if isinstance(f, Fill))
    await venue.close()
