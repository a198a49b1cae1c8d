"""Reconciliation (seed 003): the venue's accounts, positions, open orders and recent fills
against what the engine holds, turned into the events that make them agree.

- Fills the engine has not booked (missed while the daemon was down or the link was cut) are
  caught up, oldest first; one it already booked is skipped, so each is applied exactly once.
- A venue position the ledger (with those fills) still lacks is a **phantom**: it is booked as a
  recovered trade of strategy `recovered` at the current mark, so every limit counts it, and it
  is flagged for review with a warning; a ledger position the venue no longer shows is flagged
  the same way (its closing fill is missing).
- A working order the engine tracks but the venue no longer lists, and that is older than the
  slot-free window (180 s by default), is aged out as cancelled.

The events are returned, not applied: the daemon journals them like any other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import AlertLevel
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import Side
from riskguard.core.events import InputEvent, OrderStatus, OrderUpdated
from riskguard.core.fills import Fill
from riskguard.venues.base import VenueAdapter

__all__ = ["RECOVERED_STRATEGY", "Reconciliation", "reconcile"]

RECOVERED_STRATEGY = "recovered"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_batches = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Seed 003's recovery fields for one pass."""

    batch_id: str
    why: str
    at: datetime
    position_count: int
    discrepancy_count: int
    discrepancies: tuple[str, ...]
    fills_caught_up: int
    orders_aged_out: int

    @property
    def recovery_status(self) -> str:
        return "clean" if self.discrepancy_count == 0 else "discrepancies_flagged"

    @property
    def level(self) -> AlertLevel:
        return AlertLevel.INFO if self.discrepancy_count == 0 else AlertLevel.WARNING


async def reconcile(
    venue: VenueAdapter,
    engine: RiskEngine,
    since: datetime | None,
    now: datetime,
    why: str,
    *,
    slot_free_window: timedelta = timedelta(seconds=180),
) -> tuple[list[InputEvent], Reconciliation]:
    """Read the venue and say what the engine must be told so both agree (see the module doc)."""
    batch_id = f"recon-{now.strftime('%Y%m%dT%H%M%S')}-{next(_batches)}"
    view = engine.view()
    events: list[InputEvent] = []
    discrepancies: list[str] = []
    positions = caught_up = aged_out = 0
    for account in await venue.accounts():
        events.append(await venue.account(account))
        fills = [
            f
            for f in await venue.fills_since(account, since or _EPOCH)
            if not engine.ledger.has_fill(account, f.fill_id)
        ]
        caught_up += len(fills)
        events += fills
        expected: dict[str, Decimal] = {s: view.net_qty(account, s) for s in view.symbols_held(account)}
        for fill in fills:
            expected[fill.symbol] = expected.get(fill.symbol, Decimal(0)) + fill.signed_qty
        reported = await venue.positions(account)
        events += reported
        at_venue = {p.symbol: p.net_qty for p in reported}
        positions += sum(1 for qty in at_venue.values() if qty != 0)
        for symbol in sorted(set(at_venue) | set(expected)):
            ours, theirs = expected.get(symbol, Decimal(0)), at_venue.get(symbol, Decimal(0))
            if ours == theirs:
                continue
            discrepancies.append(
                f"{account} {symbol}: the venue holds {theirs}, riskguard's ledger {ours}"
                + ("; booked as a recovered trade for review" if theirs != 0 else "; its closing fill is missing")
            )
            recovered = _recovered_fill(engine, account, symbol, theirs - ours, now, batch_id)
            if recovered is not None:
                events.append(recovered)
        open_at_venue = {o.order_id for o in await venue.open_orders(account)}
        for order in engine.orders.all():
            if order.account != account or order.order_id in open_at_venue:
                continue
            if now - order.ts >= slot_free_window:
                aged_out += 1
                events.append(_aged_out(order, now))
    result = Reconciliation(
        batch_id, why, now, positions, len(discrepancies), tuple(discrepancies), caught_up, aged_out
    )
    return events, result


def _recovered_fill(
    engine: RiskEngine, account: str, symbol: str, missing: Decimal, now: datetime, batch_id: str
) -> Fill | None:
    """A fill that gives the ledger the venue's position, priced at the mark (None without one:
    the gap stays flagged and the position reported, so the gate's venue checks still see it)."""
    mark = engine.ledger.last_mark(symbol)
    if mark is None or symbol not in engine.ledger.instruments:
        return None
    side = Side.BUY if missing > 0 else Side.SELL
    fill_id = f"{batch_id}-{account}-{symbol}"
    return Fill(fill_id, fill_id, account, RECOVERED_STRATEGY, symbol, side, abs(missing), mark.price, now)  # type: ignore[arg-type]


def _aged_out(order: OrderUpdated, now: datetime) -> OrderUpdated:
    return OrderUpdated(
        order.order_id,
        order.account,
        order.strategy,
        order.symbol,
        order.side,
        order.order_type,
        OrderStatus.CANCELLED,
        order.qty,
        now,
        price=order.price,
        stop_price=order.stop_price,
        reason="aged out by reconciliation: the venue no longer lists it",
    )
