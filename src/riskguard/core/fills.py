"""A fill: a fact reported by the venue that some quantity traded at some price."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from riskguard.core._validate import coerce, require_decimal, require_id, require_utc
from riskguard.core.enums import Side
from riskguard.core.money import Price, Quantity

__all__ = ["Fill"]


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. `fee` is in the instrument's currency; a negative fee is a rebate."""

    fill_id: str
    order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    qty: Quantity
    price: Price
    ts: datetime
    fee: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("fill_id", "order_id", "account", "strategy", "symbol"):
            coerce(self, "fill", name, require_id)
        coerce(self, "fill", "side", Side.parse)
        coerce(self, "fill", "qty", Quantity.parse)
        coerce(self, "fill", "price", Price.parse)
        coerce(self, "fill", "fee", require_decimal)
        coerce(self, "fill", "ts", require_utc)

    @property
    def signed_qty(self) -> Decimal:
        """The quantity with its direction: positive for a buy, negative for a sell."""
        return self.qty if self.side is Side.BUY else -self.qty

    def difference(self, other: Fill) -> str | None:
        """Name the first field in which two fills with the same id disagree, or None."""
        for field in fields(self):
            if getattr(self, field.name) != getattr(other, field.name):
                return f"{field.name} {getattr(other, field.name)!s} vs {getattr(self, field.name)!s}"
        return None
