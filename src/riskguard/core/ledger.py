"""The position ledger: positions, PnL and exposure derived from fills alone, never from polling.

Accounting is average cost, netting per (account, strategy, symbol):

- a fill in the direction of the position (or on a flat one) adds quantity and cost;
- a fill against it closes up to the open quantity, realizing (exit - average entry) x qty x
  point value, and removes that share of the cost; a remainder opens a new position on the
  other side (a flip), and the fee is split between the two in proportion to quantity;
- fees are subtracted from realized PnL as they are paid, opening fills included.

Realized + unrealized PnL at any mark equals sum(signed qty x (mark - fill price)) x point value
minus fees, exactly: see `riskguard.core.money` for why no rounding can break that.

A fill id seen again is ignored and counted (`duplicates`); seen again with different contents
it is refused (`ConflictingFill`). Every check runs before anything changes, so a refused fill
leaves the ledger exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from riskguard.core._validate import require_id, require_utc
from riskguard.core.enums import PositionChange, Side
from riskguard.core.errors import ConflictingFill, InvalidInput, UnknownInstrument
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.money import DIVISION, EXACT, Price
from riskguard.core.positions import ZERO, Position, PositionKey

__all__ = ["FillApplied", "Ledger", "LedgerTotals", "Mark"]

_Key = tuple[str, str, str]

# Bound methods of the exact context: the fill path calls them a dozen times per fill.
_add, _sub, _mul, _div = EXACT.add, EXACT.subtract, EXACT.multiply, DIVISION.divide


class Mark(NamedTuple):
    """The latest observed price of a symbol: from a quote or mark update, or a fill."""

    price: Decimal
    ts: datetime


class FillApplied(NamedTuple):
    """What one fill did. `realized_pnl` is what this fill realized, net of its fee."""

    fill: Fill
    change: PositionChange
    position: Position | None
    closed: Position | None
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Totals over a set of positions that share a currency. Unrealized PnL and exposure are
    None while any open position in the set has no mark: unknown is not zero."""

    currency: str
    realized_pnl: Decimal
    fees: Decimal
    unrealized_pnl: Decimal | None
    exposure: Decimal | None
    open_positions: int


class Ledger:
    """Positions per (account, strategy, symbol), built from fills."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._instruments: dict[str, Instrument] = {}
        self._open: dict[_Key, Position] = {}  # keyed by PositionKey; plain tuples look up alike
        self._open_by_symbol: dict[str, dict[_Key, None]] = {}
        self._closed: list[Position] = []
        self._closed_totals: dict[PositionKey, tuple[str, Decimal, Decimal]] = {}  # currency, realized, fees
        self._seen: dict[tuple[str, str], Fill] = {}
        self._marks: dict[str, Mark] = {}
        self.duplicates = 0
        self.version = 0  # rises with every change to positions or marks, for readers that cache
        for instrument in instruments:
            self.add_instrument(instrument)

    # -- instruments and marks -------------------------------------------------------------

    def add_instrument(self, instrument: Instrument) -> None:
        known = self._instruments.get(instrument.symbol)
        if known is not None and known != instrument and instrument.symbol in self._open_by_symbol:
            raise InvalidInput(
                "instrument.symbol",
                instrument.symbol,
                "has open positions; its definition cannot change now",
            )
        self._instruments[instrument.symbol] = instrument

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The instrument catalogue, read-only."""
        return MappingProxyType(self._instruments)

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise UnknownInstrument("symbol", symbol) from None

    def mark(self, symbol: str, price: object, ts: object) -> bool:
        """Record a mark price for `symbol`; returns False (and changes nothing) if it is older
        than the mark already held. Widens MAE/MFE of the symbol's open positions.

        Only marks set the price unrealized PnL is measured at; a fill's price is the price of
        one trade (often the trader's own limit), so it widens the excursions of the position it
        fills but does not move the mark. Until a symbol has a mark, its unrealized PnL is
        unknown (None), never zero.
        """
        require_id("mark.symbol", symbol)
        self.instrument(symbol)
        checked_price = Price.parse("mark.price", price)
        checked_ts = require_utc("mark.ts", ts)
        current = self._marks.get(symbol)
        if current is not None and checked_ts < current.ts:
            return False
        self._marks[symbol] = Mark(checked_price, checked_ts)
        self.version += 1
        for key in self._open_by_symbol.get(symbol, ()):
            self._open[key] = _widened(self._open[key], checked_price)
        return True

    def last_mark(self, symbol: str) -> Mark | None:
        return self._marks.get(symbol)

    # -- fills -----------------------------------------------------------------------------

    def apply(self, fill: Fill) -> FillApplied:
        """Apply one fill. Raises InvalidInput (and changes nothing) if it cannot be accepted."""
        if not isinstance(fill, Fill):
            raise InvalidInput("fill", fill, f"must be a Fill, not {type(fill).__name__}")
        seen_key = (fill.account, fill.fill_id)
        previous = self._seen.get(seen_key)
        if previous is not None:
            difference = previous.difference(fill)
            if difference is not None:
                raise ConflictingFill(fill.fill_id, difference)
            self.duplicates += 1
            current = self._open.get((fill.account, fill.strategy, fill.symbol))
            return FillApplied(fill, PositionChange.DUPLICATE, current, None, ZERO)
        instrument = self._instruments.get(fill.symbol)
        if instrument is None:
            raise UnknownInstrument("fill.symbol", fill.symbol)
        if fill.price % instrument.tick_size or fill.qty % instrument.lot_size:
            instrument.require_on_tick("fill.price", fill.price)
            instrument.require_whole_lots("fill.qty", fill.qty)

        key = (fill.account, fill.strategy, fill.symbol)  # equal to, and hashes as, a PositionKey
        before = self._open.get(key)
        if before is None:
            applied = _open(PositionKey(*key), instrument, fill, fill.qty, fill.fee, PositionChange.OPENED)
        elif (before.net_qty > 0) == (fill.side is Side.BUY):
            applied = _increase(before, fill)
        else:
            applied = _reduce(before, fill, instrument)
        mark = self._marks.get(fill.symbol)
        if mark is not None and applied.position is not None:
            widened = _widened(applied.position, mark.price)
            if widened is not applied.position:
                applied = FillApplied(fill, applied.change, widened, applied.closed, applied.realized_pnl)

        # Everything above only computed; from here on the ledger changes, and nothing can fail.
        self._seen[seen_key] = fill
        self.version += 1
        if applied.closed is not None:
            self._record_closed(applied.closed)
        if applied.position is None:
            del self._open[key]
            by_symbol = self._open_by_symbol[fill.symbol]
            del by_symbol[key]
            if not by_symbol:
                del self._open_by_symbol[fill.symbol]
        else:
            self._open[applied.position.key] = applied.position
            if before is None:
                self._open_by_symbol.setdefault(fill.symbol, {})[applied.position.key] = None
        return applied

    def _record_closed(self, closed: Position) -> None:
        self._closed.append(closed)
        _, realized, fees = self._closed_totals.get(closed.key, (closed.currency, ZERO, ZERO))
        self._closed_totals[closed.key] = (
            closed.currency,
            EXACT.add(realized, closed.realized_pnl),
            EXACT.add(fees, closed.fees),
        )

    # -- queries ---------------------------------------------------------------------------

    def position(self, account: str, strategy: str, symbol: str) -> Position | None:
        """The open position for this key, or None when flat."""
        return self._open.get(PositionKey(account, strategy, symbol))

    def open_positions(
        self, account: str | None = None, strategy: str | None = None, symbol: str | None = None
    ) -> list[Position]:
        return [p for p in self._open.values() if _matches(p.key, account, strategy, symbol)]

    def closed_positions(
        self, account: str | None = None, strategy: str | None = None, symbol: str | None = None
    ) -> list[Position]:
        return [p for p in self._closed if _matches(p.key, account, strategy, symbol)]

    def position_keys(self) -> list[PositionKey]:
        """Every key that has had a position, closed ones first, in the order first seen."""
        return list(dict.fromkeys([*self._closed_totals, *(p.key for p in self._open.values())]))

    def fills_seen(self) -> int:
        return len(self._seen)

    def booked_fill_ids(self, account: str) -> set[str]:
        """The ids of every fill booked for the account, as of now (a copy)."""
        return {fill_id for (owner, fill_id) in self._seen if owner == account}

    def has_fill(self, account: str, fill_id: str) -> bool:
        """Has this fill been booked (a catch-up after a reconnect skips it)?"""
        return (account, fill_id) in self._seen

    def unrealized_pnl(self, position: Position) -> Decimal | None:
        mark = self._marks.get(position.symbol)
        return None if mark is None else position.unrealized_pnl(mark.price)

    def totals(
        self, account: str | None = None, strategy: str | None = None, symbol: str | None = None
    ) -> dict[str, LedgerTotals]:
        """Realized, fees, unrealized and exposure per currency over the matching positions,
        open and closed, in the order currencies were first seen."""
        sums: dict[str, _Sum] = {}
        for key, (currency, realized, fees) in self._closed_totals.items():
            if _matches(key, account, strategy, symbol):
                sums.setdefault(currency, _Sum()).add_closed(realized, fees)
        for position in self._open.values():
            if _matches(position.key, account, strategy, symbol):
                mark = self._marks.get(position.symbol)
                sums.setdefault(position.currency, _Sum()).add_open(position, None if mark is None else mark.price)
        return {currency: total.freeze(currency) for currency, total in sums.items()}


class _Sum:
    """A running total for `Ledger.totals`; unknown (None) once any open position lacks a mark."""

    __slots__ = ("exposure", "fees", "open_positions", "realized", "unrealized")

    def __init__(self) -> None:
        self.realized = self.fees = ZERO
        self.unrealized: Decimal | None = ZERO
        self.exposure: Decimal | None = ZERO
        self.open_positions = 0

    def add_closed(self, realized: Decimal, fees: Decimal) -> None:
        self.realized = EXACT.add(self.realized, realized)
        self.fees = EXACT.add(self.fees, fees)

    def add_open(self, position: Position, mark: Decimal | None) -> None:
        self.add_closed(position.realized_pnl, position.fees)
        self.open_positions += 1
        if mark is None or self.unrealized is None or self.exposure is None:
            self.unrealized = self.exposure = None
        else:
            self.unrealized = EXACT.add(self.unrealized, position.unrealized_pnl(mark))
            self.exposure = EXACT.add(self.exposure, position.exposure(mark))

    def freeze(self, currency: str) -> LedgerTotals:
        return LedgerTotals(currency, self.realized, self.fees, self.unrealized, self.exposure, self.open_positions)


def _matches(key: PositionKey, account: str | None, strategy: str | None, symbol: str | None) -> bool:
    return (
        (account is None or key.account == account)
        and (strategy is None or key.strategy == strategy)
        and (symbol is None or key.symbol == symbol)
    )


def _widened(position: Position, price: Decimal) -> Position:
    """The position with MAE/MFE widened to include the PnL it shows at `price`."""
    adverse, favorable = _excursions(position, price)
    if adverse is position.max_adverse_excursion and favorable is position.max_favorable_excursion:
        return position
    return position._replace(max_adverse_excursion=adverse, max_favorable_excursion=favorable)


def _excursions(position: Position, price: Decimal) -> tuple[Decimal, Decimal]:
    """(MAE, MFE) of `position` once it has been seen at `price`; unchanged values are returned as is."""
    pnl = _mul(_sub(_mul(price, position.net_qty), position.cost), position.multiplier)
    if pnl > position.max_favorable_excursion:
        return position.max_adverse_excursion, pnl
    if -pnl > position.max_adverse_excursion:
        return -pnl, position.max_favorable_excursion
    return position.max_adverse_excursion, position.max_favorable_excursion


def _open(
    key: PositionKey, instrument: Instrument, fill: Fill, qty: Decimal, fee: Decimal, change: PositionChange
) -> FillApplied:
    signed = qty if fill.side is Side.BUY else -qty
    price = Decimal(fill.price)
    position = Position(
        key,
        fill.fill_id,
        instrument.currency,
        instrument.multiplier,
        signed,
        _mul(signed, price),
        price,
        -fee,
        fee,
        ZERO,
        ZERO,
        qty,
        1,
        fill.ts,
        fill.ts,
        None,
        ZERO,
        ZERO,
    )
    return FillApplied(fill, change, position, None, -fee)


def _increase(before: Position, fill: Fill) -> FillApplied:
    adverse, favorable = _excursions(before, fill.price)
    signed = fill.qty if fill.side is Side.BUY else -fill.qty
    net_qty = _add(before.net_qty, signed)
    cost = _add(before.cost, _mul(signed, fill.price))
    fee = fill.fee
    position = Position(
        before.key,
        before.position_id,
        before.currency,
        before.multiplier,
        net_qty,
        cost,
        _div(cost, net_qty),
        _sub(before.realized_pnl, fee),
        _add(before.fees, fee),
        before.exit_qty,
        before.exit_value,
        max(before.peak_qty, abs(net_qty)),
        before.fill_count + 1,
        before.opened_at,
        fill.ts,
        None,
        adverse,
        favorable,
    )
    return FillApplied(fill, PositionChange.INCREASED, position, None, -fee)


def _reduce(before: Position, fill: Fill, instrument: Instrument) -> FillApplied:
    adverse, favorable = _excursions(before, fill.price)
    open_qty = abs(before.net_qty)
    closing_qty = min(fill.qty, open_qty)
    remainder = _sub(fill.qty, closing_qty)
    long = before.net_qty > 0
    closing_fee = _proportion(fill.fee, closing_qty, fill.qty) if remainder else fill.fee
    removed_cost = before.cost if closing_qty == open_qty else _div(_mul(before.cost, closing_qty), open_qty)
    exit_value = _mul(closing_qty, fill.price)
    gross_points = _sub(exit_value if long else -exit_value, removed_cost)
    realized = _sub(_mul(gross_points, before.multiplier), closing_fee)
    net_qty = _sub(before.net_qty, closing_qty) if long else _add(before.net_qty, closing_qty)
    position = Position(
        before.key,
        before.position_id,
        before.currency,
        before.multiplier,
        net_qty,
        _sub(before.cost, removed_cost),
        before.avg_entry_price,
        _add(before.realized_pnl, realized),
        _add(before.fees, closing_fee),
        _add(before.exit_qty, closing_qty),
        _add(before.exit_value, exit_value),
        before.peak_qty,
        before.fill_count + 1,
        before.opened_at,
        fill.ts,
        None if net_qty else fill.ts,
        adverse,
        favorable,
    )
    if net_qty:
        return FillApplied(fill, PositionChange.REDUCED, position, None, realized)
    if not remainder:
        return FillApplied(fill, PositionChange.CLOSED, None, position, realized)
    opening_fee = _sub(fill.fee, closing_fee)
    flipped = _open(before.key, instrument, fill, remainder, opening_fee, PositionChange.FLIPPED)
    return FillApplied(fill, PositionChange.FLIPPED, flipped.position, position, _sub(realized, opening_fee))


def _proportion(fee: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """`fee` x part / whole, rounded half-even to the fee's own decimal places."""
    share = _div(_mul(fee, part), whole)
    exponent = fee.as_tuple().exponent
    return share.quantize(Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0), context=DIVISION)
