"""What riskguard must know about a tradable thing to value it: tick, lot, point value, currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from riskguard.core._validate import require_currency, require_decimal, require_id
from riskguard.core.errors import InvalidInput

__all__ = ["Instrument"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """A contract definition.

    `multiplier` is the point value: the money one unit of quantity gains when the price rises
    by 1.0 (MNQ 2 USD, ES 50 USD, a linear crypto perpetual 1). `tick_size` is the price grid
    and `lot_size` the quantity grid; orders and fills off either grid are refused.
    """

    symbol: str
    tick_size: Decimal
    multiplier: Decimal = Decimal(1)
    currency: str = "USD"
    lot_size: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        require_id("instrument.symbol", self.symbol)
        for name in ("tick_size", "multiplier", "lot_size"):
            raw = getattr(self, name)
            number = require_decimal(f"instrument.{name}", raw)
            if number <= 0:
                raise InvalidInput(f"instrument.{name}", raw, "must be greater than zero")
            object.__setattr__(self, name, Decimal(number))
        require_currency("instrument.currency", self.currency)

    def require_on_tick(self, field: str, price: Decimal) -> None:
        """Refuse a price that is not a whole number of ticks."""
        if price % self.tick_size != 0:
            raise InvalidInput(
                field,
                str(price),
                f"is not on the {self.symbol} price grid (tick size {self.tick_size})",
            )

    def require_whole_lots(self, field: str, qty: Decimal) -> None:
        """Refuse a quantity that is not a whole number of lots."""
        if qty % self.lot_size != 0:
            raise InvalidInput(
                field,
                str(qty),
                f"is not a whole number of {self.symbol} lots (lot size {self.lot_size})",
            )
