"""MaxSlippage (seed 004): a market order may not trade far from the price its sender expects.

A market order's `price` field is the price the sender expects to pay. Slippage =
|last mark - expected price| / expected price, in %, either way: a market that has moved
in the sender's favour also means the order was priced on stale information. Limit and stop
orders cap their own price and are allowed here; a market order without an expected price
has nothing to compare and is allowed too (PriceDeviation and the notional rules still apply).

Fail closed: no mark refuses (`price_unknown`); a mark older than `max_mark_age_seconds` at
`view.now` refuses (`price_stale`); a mark exactly that old is still fresh.

Slippage of exactly `max_slippage_pct` is allowed; only past it is refused (`max_slippage`).
Exits never get here: the engine approves them first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import OrderType
from riskguard.core.errors import InvalidInput
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.rules.price_deviation import fresh_mark, percent_text, require_mark_age

__all__ = ["MaxSlippage", "MaxSlippageParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxSlippageParams(RuleParams):
    max_slippage_pct: Decimal = Decimal(1)  # most distance of the mark from the expected price, % of it (seed 004: 1)
    max_mark_age_seconds: int = 60  # a mark older than this many seconds is stale: orders are refused


class MaxSlippage(Rule[MaxSlippageParams, None]):
    name = "max_slippage"
    gate = True

    def __init__(self, params: MaxSlippageParams) -> None:
        if params.max_slippage_pct < 0:
            raise InvalidInput("max_slippage_pct", str(params.max_slippage_pct), "must be zero or more")
        require_mark_age(params.max_mark_age_seconds)
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        expected = order.price
        if order.order_type is not OrderType.MARKET or expected is None:
            return ALLOW
        mark = fresh_mark(self.name, order.symbol, view, self.params.max_mark_age_seconds)
        if isinstance(mark, Deny):
            return mark
        slippage = abs(mark.price - expected)
        if slippage * 100 > self.params.max_slippage_pct * expected:
            return Deny(
                self.name,
                "max_slippage",
                f"market {order.side} expects {fmt(expected)} but {order.symbol} is marked at {fmt(mark.price)}, "
                f"{percent_text(slippage, expected)} away, over the {fmt(self.params.max_slippage_pct)} % maximum "
                f"slippage; refresh the expected price or send a limit order",
            )
        return ALLOW
