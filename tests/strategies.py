"""Hypothesis strategies for domain values: on-grid prices and quantities, fills, fill streams."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import strategies as st

from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.testing.factories import BTC_PERP, MNQ, T0

INSTRUMENTS = (MNQ, BTC_PERP)
ACCOUNTS = ("A1", "A2")
STRATEGIES = ("s1", "s2")


def on_grid(step: Decimal, low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Whole multiples of `step` between low and high steps."""
    return st.integers(low, high).map(lambda n: step * n)


def price_of(instrument: Instrument) -> st.SearchStrategy[Decimal]:
    if instrument is MNQ:
        return on_grid(instrument.tick_size, 60_000, 80_000)  # 15000.00 .. 20000.00
    return on_grid(instrument.tick_size, 500_000, 900_000)  # 50000.0 .. 90000.0


def qty_of(instrument: Instrument) -> st.SearchStrategy[Decimal]:
    if instrument is MNQ:
        return on_grid(instrument.lot_size, 1, 10)
    return on_grid(instrument.lot_size, 1, 50_000)  # up to 0.5 BTC


fees = st.decimals(min_value=Decimal("-1.00"), max_value=Decimal("5.00"), places=2)


@st.composite
def fills(draw: st.DrawFn, *, instrument: Instrument | None = None, fill_id: str = "f", seconds: int = 0) -> Fill:
    chosen = instrument or draw(st.sampled_from(INSTRUMENTS))
    return Fill(
        fill_id=fill_id,
        order_id=f"o-{fill_id}",
        account=draw(st.sampled_from(ACCOUNTS)),
        strategy=draw(st.sampled_from(STRATEGIES)),
        symbol=chosen.symbol,
        side=draw(st.sampled_from(("buy", "sell"))),  # type: ignore[arg-type]
        qty=draw(qty_of(chosen)),  # type: ignore[arg-type]
        price=draw(price_of(chosen)),  # type: ignore[arg-type]
        ts=T0 + timedelta(seconds=seconds),
        fee=draw(fees),
    )


@st.composite
def fill_streams(draw: st.DrawFn, max_size: int = 60) -> list[Fill]:
    """Fills with unique ids and non-decreasing times, over two instruments, accounts and strategies."""
    size = draw(st.integers(0, max_size))
    return [draw(fills(fill_id=f"f{n}", seconds=n)) for n in range(size)]
