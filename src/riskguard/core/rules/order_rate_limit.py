"""OrderRateLimit (seed 004): at most `max_orders_per_minute` approved orders per account and symbol.

Every order the gate approves is counted, exits included (the engine feeds `OrderApproved`
after each approval); refused orders are not. The window at `now` is (now - 60 s, now]: an
approval exactly 60 s old has left it. With `max_orders_per_minute` approvals in the window the
next order is refused (`order_rate_limit`) until the oldest of them leaves it; the count
itself may reach the limit (the 10th order in a minute is allowed, the 11th refused). Exits are
never refused: the engine approves them before any rule. The state keeps, per account and
symbol, the latest `max_orders_per_minute` approval times, oldest first (all a check needs): an
approval prunes only its own key's times that have left the window, and drops the keys whose
every time has left it, so it costs O(limit + keys), however long the history.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, OrderApproved
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = ["OrderRateLimit", "OrderRateLimitParams", "OrderRateState"]

WINDOW = timedelta(seconds=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRateLimitParams(RuleParams):
    max_orders_per_minute: int = 10  # most orders approved per account and symbol in any 60 s (seed 004: 10)


@dataclass(frozen=True, slots=True)
class OrderRateState:
    """The latest approval times (at most the limit), oldest first, per (account, symbol). A key's
    times are pruned when it gets an approval, so some may have left the window since; a check
    counts only those inside it."""

    approvals: dict[tuple[str, str], tuple[datetime, ...]] = field(default_factory=dict)


class OrderRateLimit(Rule[OrderRateLimitParams, OrderRateState]):
    name = "order_rate_limit"
    gate = True
    reactive = True

    def __init__(self, params: OrderRateLimitParams) -> None:
        limit = params.max_orders_per_minute
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput("max_orders_per_minute", limit, "must be a whole number of orders, 1 or more")
        super().__init__(params)

    def initial_state(self) -> OrderRateState:
        return OrderRateState()

    def check(self, order: OrderRequest, view: AccountView, state: OrderRateState) -> Verdict:
        limit = self.params.max_orders_per_minute
        times = state.approvals.get((order.account, order.symbol), ())
        first, last = _span(times, view.now)
        count = last - first
        if count + 1 <= limit:
            return ALLOW
        frees_at = times[last - limit] + WINDOW
        return Deny(
            self.name,
            "order_rate_limit",
            f"{count} {order.symbol} orders of {order.account} were approved in the last 60 s, the limit of "
            f"{limit} per minute; the next one is accepted from {_utc_second(frees_at)}",
        )

    def headroom(self, view: AccountView, state: OrderRateState) -> Sequence[Headroom]:
        """The approvals in the last 60 s against the limit, per account and symbol with any."""
        limit = Decimal(self.params.max_orders_per_minute)
        return [
            Headroom(
                self.name,
                "orders in the last 60 s",
                Scope(account=account, symbol=symbol),
                Decimal(count),
                limit,
                "orders",
            )
            for (account, symbol), times in state.approvals.items()
            if (count := _count(times, view.now))
        ]

    def react(self, event: Event, view: AccountView, state: OrderRateState) -> tuple[OrderRateState, Sequence[Action]]:
        if not isinstance(event, OrderApproved):
            return state, ()
        now, limit = view.now, self.params.max_orders_per_minute
        since = now - WINDOW
        key = (event.order.account, event.order.symbol)
        times = state.approvals.get(key, ())
        if times and times[-1] > now:  # the time went back (never in the engine): the window at now
            times = _in_window(times, now)
            first = max(0, len(times) + 1 - limit)
        else:  # in order: drop the times that have left the window, keep at most the latest limit - 1
            first = max(bisect_right(times, since), len(times) + 1 - limit)
        approvals = {k: kept for k, kept in state.approvals.items() if k != key and kept[-1] > since}
        approvals[key] = (*times[first:], now)
        return OrderRateState(approvals), ()


def _span(times: tuple[datetime, ...], now: datetime) -> tuple[int, int]:
    """The times (in order) in the window (now - 60 s, now] are times[first:last]."""
    first = bisect_right(times, now - WINDOW)
    return first, bisect_right(times, now, first)


def _count(times: tuple[datetime, ...], now: datetime) -> int:
    first, last = _span(times, now)
    return last - first


def _in_window(times: tuple[datetime, ...], now: datetime) -> tuple[datetime, ...]:
    return tuple(t for t in times if now - WINDOW < t <= now)


def _utc_second(ts: datetime) -> str:
    """`ts` in UTC to the second, rounded up so the time shown is never too early."""
    if ts.microsecond:
        ts = ts.replace(microsecond=0) + timedelta(seconds=1)
    return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
