"""What the venue says about an account: balance, equity, margin, and whether it may trade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from riskguard.core._validate import coerce, require_bool, require_currency, require_decimal, require_id, require_utc
from riskguard.core.errors import InvalidInput

__all__ = ["AccountSnapshot"]


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The venue's view of an account at `ts`. Balance and equity may be negative (a blown
    account is still an account); margin used may not."""

    account: str
    balance: Decimal
    equity: Decimal
    ts: datetime
    margin_used: Decimal = Decimal(0)
    can_trade: bool = True
    currency: str = "USD"

    def __post_init__(self) -> None:
        coerce(self, "account", "account", require_id)
        for name in ("balance", "equity", "margin_used"):
            coerce(self, "account", name, require_decimal)
        if self.margin_used < 0:
            raise InvalidInput("account.margin_used", str(self.margin_used), "must not be negative")
        coerce(self, "account", "can_trade", require_bool)
        coerce(self, "account", "currency", require_currency)
        coerce(self, "account", "ts", require_utc)
