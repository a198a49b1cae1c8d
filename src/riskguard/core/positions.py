"""A position as the ledger keeps it: an immutable value, replaced by each fill that touches it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from riskguard.core.enums import PositionSide
from riskguard.core.money import DIVISION, EXACT

__all__ = ["Position", "PositionKey"]

ZERO = Decimal(0)


class PositionKey(NamedTuple):
    """Positions net per account, strategy and symbol (NautilusTrader's netting OMS does the same)."""

    account: str
    strategy: str
    symbol: str


class Position(NamedTuple):
    """One position from the fill that opened it to the fill that closed it.

    `cost` is the signed sum of quantity x price still open, kept exactly; `avg_entry_price`
    is the weighted entry for display and comparison. `realized_pnl` is net of `fees`, and both
    are in `currency`, already multiplied by the point value. `max_adverse_excursion` and
    `max_favorable_excursion` are the worst loss and best profit the open quantity showed at any
    observed price (its own fills and every mark), as non-negative amounts.

    A NamedTuple rather than a frozen dataclass: the ledger builds one per fill, and a tuple is
    built several times faster (see bench/ledger.py).
    """

    key: PositionKey
    position_id: str
    currency: str
    multiplier: Decimal
    net_qty: Decimal
    cost: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    exit_qty: Decimal
    exit_value: Decimal
    peak_qty: Decimal
    fill_count: int
    opened_at: datetime
    last_fill_at: datetime
    closed_at: datetime | None = None
    max_adverse_excursion: Decimal = ZERO
    max_favorable_excursion: Decimal = ZERO

    @property
    def account(self) -> str:
        return self.key.account

    @property
    def strategy(self) -> str:
        return self.key.strategy

    @property
    def symbol(self) -> str:
        return self.key.symbol

    @property
    def side(self) -> PositionSide:
        if self.net_qty > 0:
            return PositionSide.LONG
        if self.net_qty < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    @property
    def qty(self) -> Decimal:
        """The open quantity, without direction."""
        return abs(self.net_qty)

    @property
    def is_open(self) -> bool:
        return self.net_qty != 0

    @property
    def avg_exit_price(self) -> Decimal | None:
        """The weighted price of the fills that reduced or closed this position, if any."""
        return DIVISION.divide(self.exit_value, self.exit_qty) if self.exit_qty else None

    @property
    def gross_realized_pnl(self) -> Decimal:
        """Realized PnL before fees."""
        return EXACT.add(self.realized_pnl, self.fees)

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """What the open quantity would realize at `mark`, before the fees of closing it."""
        return EXACT.multiply(EXACT.subtract(EXACT.multiply(mark, self.net_qty), self.cost), self.multiplier)

    def exposure(self, mark: Decimal) -> Decimal:
        """The notional of the open quantity at `mark`: |quantity| x mark x point value."""
        return EXACT.multiply(EXACT.multiply(abs(self.net_qty), mark), self.multiplier)
