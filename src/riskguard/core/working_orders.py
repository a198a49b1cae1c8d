"""The account's working orders, as the venue last reported them."""

from __future__ import annotations

from riskguard.core.enums import Side
from riskguard.core.events import OrderUpdated

__all__ = ["WorkingOrders"]


class WorkingOrders:
    """Open orders by (account, order id); an order leaves when it fills, is cancelled or rejected."""

    def __init__(self) -> None:
        self._orders: dict[tuple[str, str], OrderUpdated] = {}

    def update(self, event: OrderUpdated) -> None:
        key = (event.account, event.order_id)
        if event.status.is_open:
            self._orders[key] = event
        else:
            self._orders.pop(key, None)

    def of(self, account: str, symbol: str | None = None) -> list[OrderUpdated]:
        return [o for o in self._orders.values() if o.account == account and (symbol is None or o.symbol == symbol)]

    def count(self, account: str) -> int:
        return sum(1 for o in self._orders.values() if o.account == account)

    def stops(self, account: str, symbol: str, closing_side: Side) -> list[OrderUpdated]:
        """Working stop orders that would close a position: on `closing_side` of it."""
        return [o for o in self.of(account, symbol) if o.is_stop and o.side is closing_side]

    def all(self) -> list[OrderUpdated]:
        return list(self._orders.values())
