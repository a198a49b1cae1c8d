"""riskguard's functional core: domain values, the position ledger and (later) the rules.

Nothing here does I/O or reads the wall clock; time arrives as data.
"""

from __future__ import annotations

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import OrderType, PositionChange, PositionSide, Side
from riskguard.core.errors import (
    AuditChainBroken,
    AuditError,
    AuditLogLocked,
    ConflictingFill,
    CurrencyMismatch,
    InvalidInput,
    InvariantViolation,
    RiskguardError,
    UnknownInstrument,
)
from riskguard.core.events import MarkUpdated
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import FillApplied, Ledger, LedgerTotals, Mark
from riskguard.core.money import Money, Price, Quantity
from riskguard.core.orders import OrderRequest
from riskguard.core.positions import Position, PositionKey

__all__ = [
    "AccountSnapshot",
    "AuditChainBroken",
    "AuditError",
    "AuditLogLocked",
    "ConflictingFill",
    "CurrencyMismatch",
    "Fill",
    "FillApplied",
    "Instrument",
    "InvalidInput",
    "InvariantViolation",
    "Ledger",
    "LedgerTotals",
    "Mark",
    "MarkUpdated",
    "Money",
    "OrderRequest",
    "OrderType",
    "Position",
    "PositionChange",
    "PositionKey",
    "PositionSide",
    "Price",
    "Quantity",
    "RiskguardError",
    "Side",
    "UnknownInstrument",
]
