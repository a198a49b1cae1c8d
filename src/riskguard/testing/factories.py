"""Factories for domain values with sensible defaults, so a test states only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument

__all__ = ["BTC_PERP", "ES", "MNQ", "T0", "make_fill"]

T0 = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
MNQ = Instrument("MNQ", Decimal("0.25"), Decimal("2"), "USD")
ES = Instrument("ES", Decimal("0.25"), Decimal("50"), "USD")
BTC_PERP = Instrument("BTC-PERP", Decimal("0.1"), Decimal("1"), "USDC", Decimal("0.00001"))


def make_fill(
    fill_id: str,
    side: str,
    qty: str,
    price: str,
    *,
    fee: str = "0",
    symbol: str = "MNQ",
    account: str = "A1",
    strategy: str = "s1",
    seconds: int = 0,
    order_id: str | None = None,
) -> Fill:
    """A fill at T0 + `seconds`; numbers are strings, as they arrive on the wire."""
    return Fill(
        fill_id=fill_id,
        order_id=order_id or f"o-{fill_id}",
        account=account,
        strategy=strategy,
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        qty=qty,  # type: ignore[arg-type]
        price=price,  # type: ignore[arg-type]
        ts=T0 + timedelta(seconds=seconds),
        fee=fee,  # type: ignore[arg-type]
    )
