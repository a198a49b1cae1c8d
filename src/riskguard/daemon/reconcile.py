"""Reconciliation (seed 003): the venue's accounts, positions, open orders and recent fills
against what the engine holds, turned into the events that make them agree.

- Fills the engine has not booked (missed while the daemon was down or the link was cut) are
  caught up, oldest first; one it already booked is skipped, so each is applied exactly once.
- The venue is read while it trades: fills are read before and after its positions, and the
  positions are compared only when no fill landed in between.
- A venue position the ledger (with those fills) still lacks is a **phantom**: it is booked as a
  recovered trade of strategy `recovered` at the current mark, so every limit counts it, and it
  is flagged for review with a warning; a ledger position the venue no longer shows is flagged
  the same way (its closing fill is missing).
- A working order the engine tracks but the venue no longer lists, and that is older than the
  slot-free window (180 s by default), is aged out as cancelled.
- After a restart or a reconnect (`check_stops`), each position the venue reports says whether a
  stop on its closing side is working there (`protected`), so `protective_stops` can re-arm one
  that a dead man's switch or a cancel-on-disconnect took away.

The events are returned, not applied: the daemon journals them like any other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import AlertLevel
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import Side
from riskguard.core.events import InputEvent, OrderStatus, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.venues.base import VenueAdapter

__all__ = ["RECOVERED_STRATEGY", "Reconciliation", "reconcile"]

RECOVERED_STRATEGY = "recovered"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_READ_TRIES = 5


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
    accounts: tuple[str, ...] = ()
    # Accounts whose positions could not be compared: fills kept landing during every read.
    uncompared: tuple[str, ...] = ()

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
    check_stops: bool = False,
    slot_free_window: timedelta = timedelta(seconds=180),
) -> tuple[list[InputEvent], Reconciliation]:
    """Read the venue and say what the engine must be told so both agree (see the module doc)."""
    # Unique in the journal: the time, and how many events the engine had taken when it began.
    batch_id = f"recon-{now.strftime('%Y%m%dT%H%M%S')}-{engine.sequence}"
    events: list[InputEvent] = []
    discrepancies: list[str] = []
    positions = caught_up = aged_out = 0
    uncompared: list[str] = []
    accounts = await venue.accounts()
    for account in accounts:
        events.append(await venue.account(account))
        # What the ledger holds now, before the reads: every fill in it happened before them.
        view = engine.view()
        booked = engine.ledger.booked_fill_ids(account)
        held: dict[str, Decimal] = {s: view.net_qty(account, s) for s in view.symbols_held(account)}
        fills, open_orders, reported, consistent = await _read_account(venue, account, since or _EPOCH)
        missing = [f for f in fills if f.fill_id not in booked]
        caught_up += len(missing)
        events += missing
        if not consistent:
            uncompared.append(account)
        expected = dict(held)
        for fill in missing:
            expected[fill.symbol] = expected.get(fill.symbol, Decimal(0)) + fill.signed_qty
        if check_stops:
            reported = [_with_protection(p, open_orders) for p in reported]
        events += reported
        at_venue = {p.symbol: p.net_qty for p in reported}
        positions += sum(1 for qty in at_venue.values() if qty != 0)
        for symbol in sorted(set(at_venue) | set(expected)) if consistent else ():
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
        open_at_venue = {o.order_id for o in open_orders}
        for order in engine.orders.all():
            if order.account != account or order.order_id in open_at_venue:
                continue
            if now - order.ts >= slot_free_window:
                aged_out += 1
                events.append(_aged_out(order, now))
    result = Reconciliation(
        batch_id,
        why,
        now,
        positions,
        len(discrepancies),
        tuple(discrepancies),
        caught_up,
        aged_out,
        tuple(accounts),
        tuple(uncompared),
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


async def _read_account(
    venue: VenueAdapter, account: str, since: datetime
) -> tuple[list[Fill], list[OrderUpdated], list[PositionReported], bool]:
    """Fills, open orders and positions as of one moment: the fills are read before and after the
    rest, and the read is taken only when no fill came in between (else a fill that landed mid-read
    would look like a phantom position). Trading that never pauses gets `_READ_TRIES` tries; after
    that the fills are still caught up, but positions are not compared (`consistent` False)."""
    for _ in range(_READ_TRIES):
        before = await venue.fills_since(account, since)
        open_orders = await venue.open_orders(account)
        reported = await venue.positions(account)
        after = await venue.fills_since(account, since)
        if [f.fill_id for f in before] == [f.fill_id for f in after]:
            return after, open_orders, reported, True
    return after, open_orders, reported, False


def _with_protection(position: PositionReported, open_orders: list[OrderUpdated]) -> PositionReported:
    if position.net_qty == 0:
        return position
    closing = Side.SELL if position.net_qty > 0 else Side.BUY
    protected = any(
        o.is_stop and o.side is closing and o.symbol == position.symbol and o.account == position.account
        for o in open_orders
    )
    return dataclasses.replace(position, protected=protected)


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
