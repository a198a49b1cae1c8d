"""Market events the core consumes beside fills and account snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from riskguard.core._validate import coerce, require_id, require_utc
from riskguard.core.money import Price

__all__ = ["MarkUpdated"]


@dataclass(frozen=True, slots=True)
class MarkUpdated:
    """A new mark (or last) price for a symbol, as of `ts`."""

    symbol: str
    price: Price
    ts: datetime

    def __post_init__(self) -> None:
        coerce(self, "mark", "symbol", require_id)
        coerce(self, "mark", "price", Price.parse)
        coerce(self, "mark", "ts", require_utc)
