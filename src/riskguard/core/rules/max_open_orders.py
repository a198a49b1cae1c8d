"""MaxOpenOrders (seed 004): a cap on the orders one account has working at the venue.

The count is the account's working orders as the venue last reported them (`view.orders`),
all symbols and strategies together. Having exactly `limit` working is allowed: an order that
would make the count `limit + 1` is refused (`max_open_orders`). An order approved but not yet
reported by the venue is not counted until its first order update arrives. Exits never get
here: the engine approves an order that only reduces a position first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = ["MaxOpenOrders", "MaxOpenOrdersParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxOpenOrdersParams(RuleParams):
    limit: int = 10  # most orders one account may have working at once (seed 004: 10)


class MaxOpenOrders(Rule[MaxOpenOrdersParams, None]):
    name = "max_open_orders"
    gate = True

    def __init__(self, params: MaxOpenOrdersParams) -> None:
        if isinstance(params.limit, bool) or not isinstance(params.limit, int) or params.limit < 0:
            raise InvalidInput("limit", params.limit, "must be a whole number of orders, zero or more")
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        working = view.orders.count(order.account)
        if working + 1 > self.params.limit:
            return Deny(
                self.name,
                "max_open_orders",
                f"{order.account} has {working} working orders; one more would make {working + 1}, over the limit "
                f"of {self.params.limit}; cancel one or wait for fills",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        """The working orders against the limit, per account (known ones, and any with working orders)."""
        accounts = dict.fromkeys([*view.account_ids(), *(working.account for working in view.orders.all())])
        return [
            Headroom(
                self.name,
                "open orders",
                Scope(account=account),
                Decimal(view.orders.count(account)),
                Decimal(self.params.limit),
                "orders",
            )
            for account in accounts
        ]
