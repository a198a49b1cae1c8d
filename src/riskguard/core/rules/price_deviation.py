"""PriceDeviation (seed 004, fat-finger check): an order's price may not stray far from the market.

Deviation = |order price - last mark| / mark, in %. The order price is its `price` field: the
limit price of a limit or stop-limit order, the expected price of a market order. A market
order without a price has nothing to compare and is allowed here (MaxSlippage and the notional
rules still see it); a stop order's trigger is not checked, since a stop is meant to sit away
from the market.

Fail closed: no mark refuses (`price_unknown`); a mark older than `max_mark_age_seconds` at
`view.now` refuses (`price_stale`); a mark exactly that old is still fresh.

A deviation of exactly `max_deviation_pct` is allowed; only past it is refused
(`price_deviation`). Exits never get here: the engine approves them first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import ROUND_UP, Decimal

from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.ledger import Mark
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, fmt_qty
from riskguard.core.rules.base import AccountView, Rule, RuleParams

__all__ = ["PriceDeviation", "PriceDeviationParams", "fresh_mark", "percent_text", "require_mark_age"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceDeviationParams(RuleParams):
    max_deviation_pct: Decimal = Decimal(5)  # most distance of the order's price from the mark, % of it (seed 004)
    max_mark_age_seconds: int = 60  # a mark older than this many seconds is stale: orders are refused


def require_mark_age(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput("max_mark_age_seconds", value, "must be a whole number of seconds, more than zero")


def fresh_mark(rule: str, symbol: str, view: AccountView, max_age_seconds: int) -> Mark | Deny:
    """The symbol's last mark if it is at most `max_age_seconds` old at `view.now`, else why not."""
    mark = view.mark(symbol)
    if mark is None:
        return Deny(
            rule, "price_unknown", f"no mark for {symbol}: the order's price cannot be checked against the market"
        )
    age = view.now - mark.ts
    if age > timedelta(seconds=max_age_seconds):
        seconds = Decimal(age // timedelta(microseconds=1)).scaleb(-6)
        return Deny(
            rule,
            "price_stale",
            f"the last {symbol} mark is {fmt_qty(seconds)} s old (from {mark.ts.astimezone(UTC):%H:%M:%S} UTC), "
            f"more than the {max_age_seconds} s allowed; orders are refused until a fresh price arrives",
        )
    return mark


def percent_text(part: Decimal, whole: Decimal) -> str:
    """part / whole (both positive) as a percentage for a message, to two decimals, rounded up
    so that a value just past a limit never reads as equal to it (5.0014 % shows as 5.01 %)."""
    return f"{(part * 100 / whole).quantize(Decimal('0.01'), rounding=ROUND_UP):f} %"


class PriceDeviation(Rule[PriceDeviationParams, None]):
    name = "price_deviation"
    gate = True

    def __init__(self, params: PriceDeviationParams) -> None:
        if params.max_deviation_pct < 0:
            raise InvalidInput("max_deviation_pct", str(params.max_deviation_pct), "must be zero or more")
        require_mark_age(params.max_mark_age_seconds)
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        if order.price is None:
            return ALLOW
        mark = fresh_mark(self.name, order.symbol, view, self.params.max_mark_age_seconds)
        if isinstance(mark, Deny):
            return mark
        distance = abs(order.price - mark.price)
        if distance * 100 > self.params.max_deviation_pct * mark.price:
            return Deny(
                self.name,
                "price_deviation",
                f"{order.side} {order.order_type} price {fmt(order.price)} is {percent_text(distance, mark.price)} "
                f"from the {order.symbol} mark {fmt(mark.price)}, over the {fmt(self.params.max_deviation_pct)} % "
                f"maximum; check the price and send it again",
            )
        return ALLOW
