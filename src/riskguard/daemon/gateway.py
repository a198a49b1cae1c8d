"""Sending an order the gate approved: the entry, then its protective stop.

A venue takes an entry and its stop as two orders, so an order that carries a `stop_loss` and
adds risk is sent as the entry (without it) followed by a reduce-only stop for the same
quantity on the other side. The demo bot and the API's gateway mode both send this way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from riskguard.core.orders import OrderRequest
from riskguard.venues.base import VenueAdapter

__all__ = ["SentOrder", "send_approved"]


@dataclass(frozen=True, slots=True)
class SentOrder:
    venue_order_id: str
    stop_order_id: str | None  # the protective stop's, when the order carried one


async def send_approved(venue: VenueAdapter, order: OrderRequest) -> SentOrder:
    """Send `order` (already approved by the gate) and its stop. A venue error propagates: the
    caller says the order was not (or only partly) placed."""
    venue_order_id = await venue.place_order(dataclasses.replace(order, stop_loss=None))
    if order.stop_loss is None or order.reduce_only:
        return SentOrder(venue_order_id, None)
    stop_order_id = await venue.place_stop(
        order.account, order.symbol, order.side.opposite, order.qty, order.stop_loss, client_id=f"{order.order_id}-stop"
    )
    return SentOrder(venue_order_id, stop_order_id)
