"""DuplicateOrder: refuse an order identical to one approved moments ago (a resend, a bot loop).

Identical means the same account, symbol, side, quantity, price, stop price and order type,
whatever the strategy or order id (`stop_price` is part of the price of a stop order; numbers
compare by value, so 1 and 1.0 are the same). Every order the gate approves is remembered
(the engine feeds `OrderApproved`), exits included; refused ones are not. The window at `now`
is (now - window_seconds, now]: an identical order is refused (`duplicate_order`) while the
earlier approval is inside it, and allowed again from the instant it is exactly
`window_seconds` old. Only approvals inside the window are kept, one per distinct order, in the
order they were approved (so the oldest, the first to leave the window, are pruned from the front:
an approval costs O(approvals in the window), however long the history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import OrderType, Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, OrderApproved
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, fmt_qty
from riskguard.core.rules.base import AccountView, Rule, RuleParams

__all__ = ["DuplicateOrder", "DuplicateOrderParams", "DuplicateOrderState"]

#: (account, symbol, side, qty, price, stop_price, order_type)
OrderKey = tuple[str, str, Side, Decimal, Decimal | None, Decimal | None, OrderType]


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateOrderParams(RuleParams):
    window_seconds: int = 5  # how long after an approval an identical order is refused, in seconds


@dataclass(frozen=True, slots=True)
class DuplicateOrderState:
    """When each distinct order was last approved, for approvals still inside the window, oldest
    first (the order of approval)."""

    approved: dict[OrderKey, datetime] = field(default_factory=dict)


class DuplicateOrder(Rule[DuplicateOrderParams, DuplicateOrderState]):
    name = "duplicate_order"
    gate = True
    reactive = True

    def __init__(self, params: DuplicateOrderParams) -> None:
        window = params.window_seconds
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise InvalidInput("window_seconds", window, "must be a whole number of seconds, 1 or more")
        super().__init__(params)
        self.window = timedelta(seconds=window)

    def initial_state(self) -> DuplicateOrderState:
        return DuplicateOrderState()

    def check(self, order: OrderRequest, view: AccountView, state: DuplicateOrderState) -> Verdict:
        approved_at = state.approved.get(_key(order))
        if approved_at is None or approved_at <= view.now - self.window:
            return ALLOW
        price = "" if order.price is None else f" at {fmt(order.price)}"
        stop = "" if order.stop_price is None else f" trigger {fmt(order.stop_price)}"
        return Deny(
            self.name,
            "duplicate_order",
            f"an identical order ({order.side} {fmt_qty(order.qty)} {order.symbol} {order.order_type}{price}{stop}) "
            f"was approved for {order.account} at {approved_at.astimezone(UTC):%H:%M:%S} UTC; the same order is "
            f"refused for {self.params.window_seconds} s after it, so until {_utc(approved_at + self.window)}",
        )

    def react(
        self, event: Event, view: AccountView, state: DuplicateOrderState
    ) -> tuple[DuplicateOrderState, Sequence[Action]]:
        if not isinstance(event, OrderApproved):
            return state, ()
        key = _key(event.order)
        since = view.now - self.window
        approved = state.approved.copy()
        approved.pop(key, None)  # approved again: it moves to the end, with its new time
        approved[key] = view.now
        expired = []
        for old_key, ts in approved.items():  # oldest first: stop at the first one still inside
            if ts > since:
                break
            expired.append(old_key)
        for old_key in expired:
            del approved[old_key]
        return DuplicateOrderState(approved), ()


def _key(order: OrderRequest) -> OrderKey:
    return (
        order.account,
        order.symbol,
        order.side,
        Decimal(order.qty),
        None if order.price is None else Decimal(order.price),
        None if order.stop_price is None else Decimal(order.stop_price),
        order.order_type,
    )


def _utc(ts: datetime) -> str:
    """`ts` in UTC, to the millisecond when it has a fraction of a second."""
    text = f"{ts.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
    return f"{text}.{ts.microsecond // 1000:03d} UTC" if ts.microsecond else f"{text} UTC"
