"""MaxOrderNotional (seed 004): no single order bigger than `limit` in money.

Notional = quantity x price x point value, the price being the order's limit (or stop) price,
else the last mark. With neither, the order is refused: its size cannot be known. An order of
exactly `limit` is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, order_price
from riskguard.core.rules.base import AccountView, Rule, RuleParams

__all__ = ["MaxOrderNotional", "MaxOrderNotionalParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxOrderNotionalParams(RuleParams):
    limit: Decimal  # the largest notional one order may have, in the instrument's currency


class MaxOrderNotional(Rule[MaxOrderNotionalParams, None]):
    name = "max_order_notional"
    gate = True

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        price = order_price(order, view)
        if price is None:
            return Deny(self.name, "price_unknown", f"no price for {order.symbol}: the order's size cannot be checked")
        instrument = view.instruments[order.symbol]
        notional = order.qty * price * instrument.multiplier
        if notional > self.params.limit:
            return Deny(
                self.name,
                "max_order_notional",
                f"order notional {fmt(notional, instrument.currency)} is over the "
                f"{fmt(self.params.limit, instrument.currency)} limit per order",
            )
        return ALLOW
