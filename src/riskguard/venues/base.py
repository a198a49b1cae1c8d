"""The venue adapter contract: what the daemon needs from any venue, paper or real.

Events in: an async stream of the engine's input events (fills, order updates, positions, marks,
account snapshots) plus `ConnectionChanged` when the adapter loses or regains the venue.
Commands out: close or reduce a position, cancel one order or all, place or move a stop, place
an order; and queries for reconciliation and catch-up (positions, open orders, account, fills
since a time).

Commands that create an order (a close, a stop) carry the riskguard action id as `client_id`, the
venue's idempotency key (HyperLiquid's cloid, ProjectX's customTag, MT5's comment): an action
resumed after a crash that the venue had already carried out is answered with the order it made
then, not carried out twice.

Every command raises a `VenueError` subclass on failure, so the daemon's retry and circuit-breaker
logic is the same for every venue: `RateLimited` (HTTP 429 or the venue's equivalent: retry with
backoff, never trips a breaker), `VenueUnavailable` (5xx, timeouts, connection errors: retry and
count toward the breaker), `OrderRejected` (the venue said no: retrying the same call is pointless).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import Side
from riskguard.core.events import MarkUpdated, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.orders import OrderRequest

__all__ = [
    "CallClass",
    "ConnectionChanged",
    "DeadMansSwitch",
    "OrderNotWorking",
    "OrderRejected",
    "RateLimited",
    "VenueAdapter",
    "VenueError",
    "VenueEvent",
    "VenueUnavailable",
]


class CallClass(StrEnum):
    """Seed 003's endpoint classes, each with its own exchange-health breaker."""

    PRICE_READS = "price_reads"
    ORDER_SUBMISSION = "order_submission"
    ACCOUNT_READS = "account_reads"


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The adapter's link to the venue went up (`connected`) or down, at `ts`, and why."""

    venue: str
    connected: bool
    ts: datetime
    reason: str = ""


VenueEvent = Fill | OrderUpdated | PositionReported | MarkUpdated | AccountSnapshot | ConnectionChanged


class VenueError(Exception):
    """A venue call failed. `call_class` says which breaker it counts toward."""

    def __init__(self, message: str, call_class: CallClass = CallClass.ORDER_SUBMISSION) -> None:
        super().__init__(message)
        self.call_class = call_class


class RateLimited(VenueError):
    """HTTP 429 or equivalent: retried with bounded backoff; never trips a breaker."""


class VenueUnavailable(VenueError):
    """5xx, a timeout or a dropped connection: retried, and counted by the breaker."""


class OrderRejected(VenueError):
    """The venue refused the request itself (no position, unknown order, bad price)."""


class OrderNotWorking(OrderRejected):
    """The order named is no longer working: filled or cancelled already. For a cancel that is
    the goal reached, not a failure (a fill and the cancel it prompts can cross)."""


@runtime_checkable
class VenueAdapter(Protocol):
    """One venue connection. Quantities and prices are Decimal; times are aware UTC."""

    name: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def events(self) -> AsyncIterator[VenueEvent]:
        """Every event from the venue, in the order the venue reported them."""
        ...

    # -- commands -------------------------------------------------------------------------

    async def place_order(self, order: OrderRequest) -> str:
        """Send an order; return the venue's order id."""
        ...

    async def close_position(
        self, account: str, symbol: str, qty: Decimal | None = None, *, client_id: str | None = None
    ) -> None:
        """Close the account's position in `symbol` at market, reduce-only: all of it, or `qty`.
        A `client_id` the venue has already seen is not carried out again."""
        ...

    async def cancel_order(self, account: str, order_id: str) -> None: ...

    async def cancel_all(self, account: str, symbol: str | None = None) -> None: ...

    async def place_stop(
        self,
        account: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        stop_price: Decimal,
        *,
        client_id: str | None = None,
    ) -> str:
        """A reduce-only stop market order; return its venue order id (the earlier one's, for a
        `client_id` already seen)."""
        ...

    async def modify_stop(self, account: str, order_id: str, stop_price: Decimal) -> None: ...

    # -- queries --------------------------------------------------------------------------

    async def accounts(self) -> list[str]: ...

    async def account(self, account: str) -> AccountSnapshot: ...

    async def positions(self, account: str) -> list[PositionReported]: ...

    async def open_orders(self, account: str) -> list[OrderUpdated]: ...

    async def fills_since(self, account: str, since: datetime) -> list[Fill]:
        """Every fill of the account at or after `since`, oldest first (catch-up after a reconnect)."""
        ...


@runtime_checkable
class DeadMansSwitch(Protocol):
    """A venue that cancels an account's working orders at a time unless told again before it
    (HyperLiquid's ``scheduleCancel``; cancel-on-disconnect elsewhere). Optional: the daemon keeps
    it armed where the adapter has it."""

    async def schedule_cancel(self, account: str, at: datetime | None) -> None:
        """Cancel the account's working orders at `at` unless called again first; None disarms."""
        ...
