"""The paper venue's matching: accounts, positions and working orders, filled against prices that
are passed in. Synchronous, with no clock: every call is given its time.

Fill prices:

- a market order, and a stop once triggered, buys at the price + `half_spread_ticks` and sells at
  the price - `half_spread_ticks` (never below one tick);
- a limit order fills at its limit price while the price is at or through it (a buy at or below
  the limit, a sell at or above); a limit that is marketable on arrival fills at its limit too;
- a stop triggers once the price reaches it (a buy stop at or above, a sell stop at or below),
  also on arrival or when moved there; a stop_limit then works as a limit.

An order fills at most `max_qty_per_step[symbol]` per price step (its arrival is a step too);
the rest keeps working. Orders are worked in the order they were placed.

Positions are kept per (account, strategy, symbol) as FIFO lots, so realized PnL is exact (no
average price to divide) and the balance never grows more decimal places than prices, quantities
and fees have; the venue reports positions netted per (account, symbol). Realized PnL minus the
fee moves the balance; equity adds the open lots' PnL at the current price.

Orders the venue creates itself (`close_position`, `place_stop`) belong to no strategy: they report
`venue_strategy`, and each fill is split across the strategies whose positions it reduces, in
strategy-name order, so per-strategy books stay right. A reduce-only order never opens or adds:
a fill is capped at the net position, and one that can no longer reduce (the position is flat
or turned) is cancelled at once.

Every command checks everything before it changes anything, and refuses a bad request with
`OrderRejected`, leaving the state as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from riskguard.core._validate import coerce, require_currency, require_decimal, require_id
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import OrderType, Side
from riskguard.core.errors import InvalidInput, InvariantViolation
from riskguard.core.events import MarkUpdated, OrderStatus, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.money import EXACT, Price, Quantity
from riskguard.core.orders import OrderRequest
from riskguard.venues.base import CallClass, OrderNotWorking, OrderRejected, VenueEvent

__all__ = ["MatchingSimulator", "PaperAccount", "Placed"]

ZERO = Decimal(0)
_add, _sub, _mul = EXACT.add, EXACT.subtract, EXACT.multiply
_READS = CallClass.ACCOUNT_READS


@dataclass(frozen=True, slots=True)
class PaperAccount:
    """An account at the paper venue: its id, its opening balance, and the one currency it holds
    (it trades only instruments that settle in that currency)."""

    account: str
    balance: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        coerce(self, "paper_account", "account", require_id)
        coerce(self, "paper_account", "balance", require_decimal)
        coerce(self, "paper_account", "currency", require_currency)


class Placed(NamedTuple):
    """An accepted order's venue id, and the events its arrival produced."""

    order_id: str
    events: list[VenueEvent]


class _Lot(NamedTuple):
    qty: Decimal  # signed: positive long, negative short
    price: Decimal


@dataclass(slots=True)
class _Order:
    """A working order as the simulator keeps it: mutable state that never leaves this module
    (what leaves is an `OrderUpdated`). `strategy` None marks the venue's own orders."""

    order_id: str
    account: str
    strategy: str | None
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    reduce_only: bool
    filled: Decimal = ZERO
    fill_count: int = 0
    status: OrderStatus = OrderStatus.WORKING
    triggered: bool = False
    client_id: str | None = None  # the idempotency key it was sent with

    @property
    def leaves(self) -> Decimal:
        return _sub(self.qty, self.filled)


class _Batch:
    """The events one call produces, and the accounts whose balance or equity it changed."""

    def __init__(self, *events: VenueEvent) -> None:
        self.events: list[VenueEvent] = list(events)
        self.touched: set[str] = set()


class MatchingSimulator:
    """A simulated exchange for a fixed set of instruments and accounts."""

    def __init__(
        self,
        instruments: Iterable[Instrument],
        accounts: Iterable[PaperAccount],
        prices: Mapping[str, Decimal],
        *,
        half_spread_ticks: int = 1,
        fee_per_unit: Mapping[str, Decimal] | None = None,
        max_qty_per_step: Mapping[str, Decimal] | None = None,
        id_prefix: str = "P",
        venue_strategy: str = "riskguard",
    ) -> None:
        self._instruments = {instrument.symbol: instrument for instrument in instruments}
        self._accounts: dict[str, PaperAccount] = {}
        for account in accounts:
            if account.account in self._accounts:
                raise InvalidInput("accounts", account.account, "is listed twice; account ids must be unique")
            self._accounts[account.account] = account
        if isinstance(half_spread_ticks, bool) or not isinstance(half_spread_ticks, int) or half_spread_ticks < 0:
            raise InvalidInput("half_spread_ticks", half_spread_ticks, "must be a whole number of ticks, 0 or more")
        self.half_spread_ticks = half_spread_ticks
        self.id_prefix = require_id("id_prefix", id_prefix)
        self.venue_strategy = require_id("venue_strategy", venue_strategy)
        for symbol in prices:
            self._known("prices", symbol)
        self._prices = {symbol: self._start_price(symbol, prices) for symbol in self._instruments}
        self._fee_per_unit = {
            self._known("fee_per_unit", symbol): require_decimal(f"fee_per_unit.{symbol}", rate)
            for symbol, rate in (fee_per_unit or {}).items()
        }
        self._max_qty_per_step: dict[str, Decimal] = {}
        for symbol, qty in (max_qty_per_step or {}).items():
            checked = Quantity.parse(f"max_qty_per_step.{symbol}", qty)
            self._instruments[self._known("max_qty_per_step", symbol)].require_whole_lots(
                f"max_qty_per_step.{symbol}", checked
            )
            self._max_qty_per_step[symbol] = Decimal(checked)
        self._balances = {a.account: a.balance for a in self._accounts.values()}
        self._realized = dict.fromkeys(self._accounts, ZERO)
        self._fees = dict.fromkeys(self._accounts, ZERO)
        self._lots: dict[tuple[str, str, str], list[_Lot]] = {}  # (account, strategy, symbol)
        self._net: dict[tuple[str, str], Decimal] = {}  # (account, symbol), non-zero only
        self._orders: dict[str, _Order] = {}  # every order, in the order placed
        self._open: dict[str, _Order] = {}  # the working ones, in the order placed
        self._fills: list[Fill] = []
        self._order_count = 0
        self._client_ids: dict[tuple[str, str], str] = {}  # (account, idempotency key) -> order id
        self.repeated_client_ids: list[str] = []  # keys sent again, each answered without a new order

    # -- prices ----------------------------------------------------------------------------

    def price(self, symbol: str) -> Price:
        """The current price of `symbol` (the last mark, or the start price)."""
        return Price(self._prices[self._instrument(symbol, CallClass.PRICE_READS).symbol])

    def on_mark(self, mark: MarkUpdated) -> list[VenueEvent]:
        """A price step: record the price and work every order in the symbol against it.
        Returns the mark, then fills and order and position updates, then account snapshots."""
        instrument = self._instrument(mark.symbol, CallClass.PRICE_READS)
        instrument.require_on_tick("mark.price", mark.price)
        self._prices[mark.symbol] = mark.price
        batch = _Batch(mark)
        for order in [o for o in self._open.values() if o.symbol == mark.symbol]:
            self._work(order, mark.ts, batch)
        holders = {account for account, symbol in self._net if symbol == mark.symbol}
        return self._finish(batch, mark.ts, holders)

    # -- commands --------------------------------------------------------------------------

    def place(self, order: OrderRequest, ts: datetime) -> Placed:
        """Accept `order` and work it at once against the current price."""
        self._account(order.account, CallClass.ORDER_SUBMISSION)
        instrument = self._tradable(order.account, order.symbol)
        try:
            order.require_fits(instrument)
        except InvalidInput as exc:
            raise OrderRejected(f"order {order.order_id}: {exc}") from exc
        if order.stop_loss is not None or order.take_profit is not None:
            raise OrderRejected(
                f"order {order.order_id}: the paper venue does not take attached stop_loss/take_profit; "
                "place the stop with place_stop once the entry has filled"
            )
        if order.reduce_only:
            self._require_reducible(order.account, order.symbol, order.side)
        return self._accept(
            _Order(
                order_id=self._next_order_id(),
                account=order.account,
                strategy=order.strategy,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                qty=Decimal(order.qty),
                price=None if order.order_type in (OrderType.MARKET, OrderType.STOP) else order.price,
                stop_price=order.stop_price,
                reduce_only=order.reduce_only,
            ),
            ts,
        )

    def place_stop(
        self,
        account: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        stop_price: Decimal,
        ts: datetime,
        client_id: str | None = None,
    ) -> Placed:
        """A reduce-only stop market order of the venue's own, protecting the net position."""
        if (seen := self._seen(account, client_id)) is not None:
            return seen
        self._account(account, CallClass.ORDER_SUBMISSION)
        self._tradable(account, symbol)
        try:
            checked_side = Side.parse("side", side)
        except InvalidInput as exc:
            raise OrderRejected(str(exc)) from exc
        checked_qty = self._lots_of(symbol, "qty", qty)
        checked_stop = self._on_tick(symbol, "stop_price", stop_price)
        self._require_reducible(account, symbol, checked_side)
        return self._accept(
            _Order(
                order_id=self._next_order_id(),
                account=account,
                strategy=None,
                symbol=symbol,
                side=checked_side,
                order_type=OrderType.STOP,
                qty=checked_qty,
                price=None,
                stop_price=checked_stop,
                reduce_only=True,
            ),
            ts,
            client_id,
        )

    def close_position(
        self, account: str, symbol: str, qty: Decimal | None, ts: datetime, client_id: str | None = None
    ) -> Placed:
        """Close the net position at market, reduce-only: all of it, or `qty` of it (at most all).
        A `client_id` already used answers with that order and does nothing."""
        if (seen := self._seen(account, client_id)) is not None:
            return seen
        self._account(account, CallClass.ORDER_SUBMISSION)
        self._tradable(account, symbol)
        net = self._net.get((account, symbol), ZERO)
        if net == 0:
            raise OrderRejected(f"account {account} has no {symbol} position to close")
        held = abs(net)
        wanted = held if qty is None else min(self._lots_of(symbol, "qty", qty), held)
        return self._accept(
            _Order(
                order_id=self._next_order_id(),
                account=account,
                strategy=None,
                symbol=symbol,
                side=Side.SELL if net > 0 else Side.BUY,
                order_type=OrderType.MARKET,
                qty=wanted,
                price=None,
                stop_price=None,
                reduce_only=True,
            ),
            ts,
            client_id,
        )

    def cancel(self, account: str, order_id: str, ts: datetime) -> list[VenueEvent]:
        order = self._open_order(account, order_id)
        batch = _Batch()
        self._end(order, OrderStatus.CANCELLED, ts, batch, "cancelled on request")
        return batch.events

    def cancel_all(self, account: str, symbol: str | None, ts: datetime) -> list[VenueEvent]:
        """Cancel every working order of the account (in `symbol` only, when given); none is fine."""
        self._account(account, CallClass.ORDER_SUBMISSION)
        if symbol is not None:
            self._instrument(symbol, CallClass.ORDER_SUBMISSION)
        batch = _Batch()
        for order in [o for o in self._open.values() if o.account == account and symbol in (None, o.symbol)]:
            self._end(order, OrderStatus.CANCELLED, ts, batch, "cancelled on request (cancel all)")
        return batch.events

    def modify_stop(self, account: str, order_id: str, stop_price: Decimal, ts: datetime) -> list[VenueEvent]:
        """Move a stop that has not triggered yet; it triggers at once if the price is already there."""
        order = self._open_order(account, order_id)
        if order.stop_price is None:
            raise OrderRejected(f"order {order_id} is a {order.order_type} order; only a stop has a stop price to move")
        if order.triggered:
            raise OrderRejected(f"order {order_id} has already triggered at {order.stop_price}; it can no longer move")
        order.stop_price = self._on_tick(order.symbol, "stop_price", stop_price)
        batch = _Batch(self._report(order, ts))
        self._work(order, ts, batch)
        return self._finish(batch, ts)

    # -- queries ---------------------------------------------------------------------------

    def accounts(self) -> list[str]:
        return list(self._accounts)

    def snapshot(self, account: str, ts: datetime) -> AccountSnapshot:
        """Balance, and equity at the current prices."""
        config = self._account(account, _READS)
        return AccountSnapshot(
            account=account,
            balance=self._balances[account],
            equity=_add(self._balances[account], self.unrealized_pnl(account)),
            ts=ts,
            currency=config.currency,
        )

    def positions(self, account: str, ts: datetime) -> list[PositionReported]:
        """The account's open net positions, in instrument order."""
        self._account(account, _READS)
        return [
            PositionReported(account, symbol, self._net[(account, symbol)], ts)
            for symbol in self._instruments
            if (account, symbol) in self._net
        ]

    def open_orders(self, account: str, ts: datetime) -> list[OrderUpdated]:
        self._account(account, _READS)
        return [self._report(order, ts) for order in self._open.values() if order.account == account]

    def fills(self, account: str, since: datetime | None = None) -> list[Fill]:
        """The account's fills, oldest first; at or after `since` when given."""
        self._account(account, _READS)
        return [f for f in self._fills if f.account == account and (since is None or f.ts >= since)]

    def venue_orders(self, account: str) -> list[tuple[str, str | None]]:
        """Every order the venue made on request (closes, stops) for the account, oldest first:
        (order id, the idempotency key it came with). For audits: was each key used once?"""
        return [(o.order_id, o.client_id) for o in self._orders.values() if o.account == account and o.strategy is None]

    def net_qty(self, account: str, symbol: str) -> Decimal:
        return self._net.get((account, symbol), ZERO)

    def strategy_positions(self, account: str) -> dict[tuple[str, str], Decimal]:
        """Open quantity per (strategy, symbol): what the venue nets into `positions`."""
        return {(strategy, symbol): _net_of(lots) for (a, strategy, symbol), lots in self._lots.items() if a == account}

    def balance(self, account: str) -> Decimal:
        return self._balances[self._account(account, _READS).account]

    def realized_pnl(self, account: str) -> Decimal:
        """Realized PnL before fees, since the start."""
        return self._realized[self._account(account, _READS).account]

    def fees(self, account: str) -> Decimal:
        """Fees paid since the start."""
        return self._fees[self._account(account, _READS).account]

    def unrealized_pnl(self, account: str) -> Decimal:
        """The open lots' PnL at the current prices."""
        total = ZERO
        for (owner, _, symbol), lots in self._lots.items():
            if owner == account:
                multiplier, price = self._instruments[symbol].multiplier, self._prices[symbol]
                for lot in lots:
                    total = _add(total, _mul(_mul(lot.qty, _sub(price, lot.price)), multiplier))
        return total

    # -- working orders --------------------------------------------------------------------

    def _seen(self, account: str, client_id: str | None) -> Placed | None:
        """The order an idempotency key already made, counted as a repeat; None for a new key."""
        if client_id is None or (account, client_id) not in self._client_ids:
            return None
        self.repeated_client_ids.append(client_id)
        return Placed(self._client_ids[account, client_id], [])

    def _accept(self, order: _Order, ts: datetime, client_id: str | None = None) -> Placed:
        if client_id is not None:
            self._client_ids[order.account, client_id] = order.order_id
            order.client_id = client_id
        self._orders[order.order_id] = order
        self._open[order.order_id] = order
        batch = _Batch(self._report(order, ts))
        self._work(order, ts, batch)
        return Placed(order.order_id, self._finish(batch, ts))

    def _work(self, order: _Order, ts: datetime, batch: _Batch) -> None:
        """One step of one order: trigger it, and fill what the price and the step allow."""
        if order.status is not OrderStatus.WORKING:
            return  # ended earlier in the same step (a reduce-only order swept by another's fill)
        price = self._prices[order.symbol]
        if order.stop_price is not None and not order.triggered:
            if (price < order.stop_price) if order.side is Side.BUY else (price > order.stop_price):
                return
            order.triggered = True
        if order.price is None:
            fill_price = self._touch(order.symbol, order.side)
        elif (price <= order.price) if order.side is Side.BUY else (price >= order.price):
            fill_price = order.price
        else:
            return
        qty = min(order.leaves, self._max_qty_per_step.get(order.symbol, order.leaves))
        if order.reduce_only:
            capacity = self._capacity(order.account, order.symbol, order.side)
            if capacity == 0:
                self._end(order, OrderStatus.CANCELLED, ts, batch, _why_not_reducible(order))
                return
            qty = min(qty, capacity)
        slices = [(order.strategy, qty)] if order.strategy is not None else self._allocate(order, qty)
        for strategy, part in slices:
            self._fill(order, strategy, part, fill_price, ts, batch)
        if order.leaves == 0:
            self._end(order, OrderStatus.FILLED, ts, batch)
        elif order.reduce_only and self._capacity(order.account, order.symbol, order.side) == 0:
            self._end(order, OrderStatus.CANCELLED, ts, batch, _why_not_reducible(order))
        else:
            batch.events.append(self._report(order, ts))  # partly filled: the rest keeps working
        self._sweep_reduce_only(order.account, order.symbol, ts, batch)

    def _allocate(self, order: _Order, qty: Decimal) -> list[tuple[str, Decimal]]:
        """Split a venue order's fill across the strategies holding the side it reduces."""
        reducing_long = order.side is Side.SELL
        slices: list[tuple[str, Decimal]] = []
        remaining = qty
        for (account, strategy, symbol), lots in sorted(self._lots.items(), key=lambda item: item[0]):
            held = _net_of(lots)
            if remaining and account == order.account and symbol == order.symbol and (held > 0) == reducing_long:
                part = min(remaining, abs(held))
                slices.append((strategy, part))
                remaining = _sub(remaining, part)
        if remaining:
            raise InvariantViolation(f"paper venue: {order.order_id} could not allocate {remaining} of {qty}")
        return slices

    def _fill(self, order: _Order, strategy: str, qty: Decimal, price: Decimal, ts: datetime, batch: _Batch) -> None:
        instrument = self._instruments[order.symbol]
        fee = _mul(self._fee_per_unit.get(order.symbol, ZERO), qty)
        order.fill_count += 1
        fill = Fill(
            fill_id=f"{order.order_id}.{order.fill_count}",
            order_id=order.order_id,
            account=order.account,
            strategy=strategy,
            symbol=order.symbol,
            side=order.side,
            qty=Quantity(qty),
            price=Price(price),
            ts=ts,
            fee=fee,
        )
        realized = self._book(fill, instrument.multiplier)
        account = order.account
        self._balances[account] = _sub(_add(self._balances[account], realized), fee)
        self._realized[account] = _add(self._realized[account], realized)
        self._fees[account] = _add(self._fees[account], fee)
        order.filled = _add(order.filled, qty)
        self._fills.append(fill)
        batch.events += [fill, PositionReported(account, order.symbol, self.net_qty(account, order.symbol), ts)]
        batch.touched.add(account)

    def _book(self, fill: Fill, multiplier: Decimal) -> Decimal:
        """Apply a fill to its strategy's FIFO lots; return the PnL it realized, before fees."""
        key = (fill.account, fill.strategy, fill.symbol)
        lots = self._lots.setdefault(key, [])
        remaining = fill.signed_qty
        realized = ZERO
        while remaining and lots and (lots[0].qty > 0) != (remaining > 0):
            lot = lots[0]
            direction = 1 if lot.qty > 0 else -1
            taken = min(abs(remaining), abs(lot.qty))
            realized = _add(realized, _mul(_mul(_mul(taken, _sub(fill.price, lot.price)), direction), multiplier))
            if taken == abs(lot.qty):
                lots.pop(0)
            else:
                lots[0] = _Lot(_sub(lot.qty, _mul(taken, direction)), lot.price)
            remaining = _add(remaining, _mul(taken, direction))
        if remaining:
            lots.append(_Lot(remaining, Decimal(fill.price)))
        if not lots:
            del self._lots[key]
        net_key = (fill.account, fill.symbol)
        net = _add(self._net.get(net_key, ZERO), fill.signed_qty)
        if net:
            self._net[net_key] = net
        else:
            self._net.pop(net_key, None)
        return realized

    def _sweep_reduce_only(self, account: str, symbol: str, ts: datetime, batch: _Batch) -> None:
        """Cancel the reduce-only orders that the position can no longer take."""
        for order in list(self._open.values()):
            if (
                order.reduce_only
                and order.account == account
                and order.symbol == symbol
                and self._capacity(account, symbol, order.side) == 0
            ):
                self._end(order, OrderStatus.CANCELLED, ts, batch, _why_not_reducible(order))

    def _end(self, order: _Order, status: OrderStatus, ts: datetime, batch: _Batch, reason: str = "") -> None:
        """Report the order's last update (cancelled: with the quantity that did not fill), then
        take it off the book."""
        batch.events.append(self._report(order, ts, status, reason))
        order.status = status
        del self._open[order.order_id]

    def _report(self, order: _Order, ts: datetime, status: OrderStatus | None = None, reason: str = "") -> OrderUpdated:
        """The order as the venue reports it: `qty` is what still works (the whole order once filled)."""
        final = status or order.status
        return OrderUpdated(
            order_id=order.order_id,
            account=order.account,
            strategy=order.strategy or self.venue_strategy,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            status=final,
            qty=Quantity(order.qty if final is OrderStatus.FILLED else order.leaves),
            ts=ts,
            price=None if order.price is None else Price(order.price),
            stop_price=None if order.stop_price is None else Price(order.stop_price),
            reason=reason,
        )

    def _finish(self, batch: _Batch, ts: datetime, holders: Iterable[str] = ()) -> list[VenueEvent]:
        """Close a call's events with a snapshot of every account it changed, in account order."""
        changed = batch.touched.union(holders)
        batch.events += [self.snapshot(account, ts) for account in self._accounts if account in changed]
        return batch.events

    # -- checks ----------------------------------------------------------------------------

    def _touch(self, symbol: str, side: Side) -> Decimal:
        """The price a market order takes: half the spread away, never below one tick."""
        tick = self._instruments[symbol].tick_size
        touch = _add(self._prices[symbol], _mul(_mul(tick, self.half_spread_ticks), side.sign))
        return max(touch, tick)

    def _capacity(self, account: str, symbol: str, side: Side) -> Decimal:
        """How much an order on `side` can reduce the net position: 0 if flat or on its side."""
        net = self._net.get((account, symbol), ZERO)
        return abs(net) if (net > 0 and side is Side.SELL) or (net < 0 and side is Side.BUY) else ZERO

    def _require_reducible(self, account: str, symbol: str, side: Side) -> None:
        if self._capacity(account, symbol, side) == 0:
            net = self._net.get((account, symbol), ZERO)
            held = "flat" if net == 0 else f"{'long' if net > 0 else 'short'} {abs(net)}"
            raise OrderRejected(
                f"a reduce-only {side} of {symbol} for account {account} would not reduce anything: the position is {held}"
            )

    def _account(self, account: str, call_class: CallClass) -> PaperAccount:
        try:
            return self._accounts[account]
        except (KeyError, TypeError):
            known = ", ".join(self._accounts)
            raise OrderRejected(
                f"account {account!r} is not an account of the paper venue (it has {known})", call_class
            ) from None

    def _instrument(self, symbol: str, call_class: CallClass) -> Instrument:
        try:
            return self._instruments[symbol]
        except (KeyError, TypeError):
            known = ", ".join(self._instruments)
            raise OrderRejected(
                f"symbol {symbol!r} is not traded at the paper venue (it has {known})", call_class
            ) from None

    def _tradable(self, account: str, symbol: str) -> Instrument:
        instrument = self._instrument(symbol, CallClass.ORDER_SUBMISSION)
        currency = self._accounts[account].currency
        if instrument.currency != currency:
            raise OrderRejected(
                f"account {account} holds {currency} and {symbol} settles in {instrument.currency}; "
                "the paper venue does not convert currencies"
            )
        return instrument

    def _open_order(self, account: str, order_id: str) -> _Order:
        self._account(account, CallClass.ORDER_SUBMISSION)
        order = self._orders.get(order_id)
        if order is None or order.account != account:
            raise OrderRejected(f"order {order_id!r} is not an order of account {account}")
        if order.status is not OrderStatus.WORKING:
            raise OrderNotWorking(f"order {order_id} is already {order.status}; it is no longer working")
        return order

    def _on_tick(self, symbol: str, field: str, value: object) -> Decimal:
        """A price on the symbol's grid, or the venue's refusal naming the field."""
        try:
            price = Price.parse(field, value)
            self._instruments[symbol].require_on_tick(field, price)
        except InvalidInput as exc:
            raise OrderRejected(str(exc)) from exc
        return Decimal(price)

    def _lots_of(self, symbol: str, field: str, value: object) -> Decimal:
        """A quantity of whole lots, or the venue's refusal naming the field."""
        try:
            qty = Quantity.parse(field, value)
            self._instruments[symbol].require_whole_lots(field, qty)
        except InvalidInput as exc:
            raise OrderRejected(str(exc)) from exc
        return Decimal(qty)

    def _known(self, field: str, symbol: str) -> str:
        if symbol not in self._instruments:
            raise InvalidInput(field, symbol, "names no instrument of the paper venue")
        return symbol

    def _start_price(self, symbol: str, prices: Mapping[str, Decimal]) -> Decimal:
        if symbol not in prices:
            raise InvalidInput("prices", symbol, "has no start price; give every instrument one")
        price = Price.parse(f"prices.{symbol}", prices[symbol])
        self._instruments[symbol].require_on_tick(f"prices.{symbol}", price)
        return Decimal(price)

    def _next_order_id(self) -> str:
        self._order_count += 1
        return f"{self.id_prefix}-{self._order_count}"


def _net_of(lots: list[_Lot]) -> Decimal:
    total = ZERO
    for lot in lots:
        total = _add(total, lot.qty)
    return total


def _why_not_reducible(order: _Order) -> str:
    return f"reduce-only: the {order.symbol} position no longer has a side a {order.side} can reduce"
