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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from riskguard.core._validate import require_id, require_utc
from riskguard.core.enums import PositionChange
from riskguard.core.errors import ConflictingFill, InvalidInput, UnknownInstrument
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.money import DIVISION, EXACT, Price
from riskguard.core.positions import ZERO, Position, PositionKey

__all__ = ["FillApplied", "Ledger", "LedgerTotals", "Mark"]


@dataclass(frozen=True, slots=True)
class Mark:
    """The latest observed price of a symbol: from a quote or mark update, or a fill."""

    price: Decimal
    ts: datetime


@dataclass(frozen=True, slots=True)
class FillApplied:
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
        self._open: dict[PositionKey, Position] = {}
        self._open_by_symbol: dict[str, dict[PositionKey, None]] = {}
        self._closed: list[Position] = []
        self._closed_totals: dict[PositionKey, tuple[Decimal, Decimal]] = {}
        self._seen: dict[tuple[str, str], Fill] = {}
        self._marks: dict[str, Mark] = {}
        self.duplicates = 0
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

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise UnknownInstrument("symbol", symbol) from None

    def mark(self, symbol: str, price: object, ts: object) -> bool:
        """Record a price for `symbol`; returns False (and changes nothing) if it is older than
        the mark already held. Updates MAE/MFE of the symbol's open positions."""
        require_id("mark.symbol", symbol)
        self.instrument(symbol)
        checked_price = Price(price, "mark.price")
        checked_ts = require_utc("mark.ts", ts)
        return self._observe(symbol, checked_price, checked_ts)

    def last_mark(self, symbol: str) -> Mark | None:
        return self._marks.get(symbol)

    def _observe(self, symbol: str, price: Decimal, ts: datetime) -> bool:
        current = self._marks.get(symbol)
        if current is not None and ts < current.ts:
            return False
        self._marks[symbol] = Mark(price, ts)
        for key in self._open_by_symbol.get(symbol, ()):
            position = self._open[key]
            updated = _with_excursion(position, price)
            if updated is not position:
                self._open[key] = updated
        return True

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
            current = self._open.get(PositionKey(fill.account, fill.strategy, fill.symbol))
            return FillApplied(fill, PositionChange.DUPLICATE, current, None, ZERO)
        instrument = self._instruments.get(fill.symbol)
        if instrument is None:
            raise UnknownInstrument("fill.symbol", fill.symbol)
        instrument.require_on_tick("fill.price", fill.price)
        instrument.require_whole_lots("fill.qty", fill.qty)

        key = PositionKey(fill.account, fill.strategy, fill.symbol)
        before = self._open.get(key)
        if before is not None:
            before = _with_excursion(before, fill.price)  # the fill's price is a price the position saw
        if before is None:
            applied = _open(key, instrument, fill, fill.qty, fill.fee, PositionChange.OPENED)
        elif (before.net_qty > 0) == (fill.side.sign > 0):
            applied = _increase(before, fill)
        else:
            applied = _reduce(before, fill, instrument)

        # Everything above only computed; from here on the ledger changes, and nothing can fail.
        self._seen[seen_key] = fill
        if applied.closed is not None:
            self._record_closed(applied.closed)
        if applied.position is None:
            del self._open[key]
            del self._open_by_symbol[fill.symbol][key]
            if not self._open_by_symbol[fill.symbol]:
                del self._open_by_symbol[fill.symbol]
        else:
            self._open[key] = applied.position
            self._open_by_symbol.setdefault(fill.symbol, {})[key] = None
        self._observe(fill.symbol, fill.price, fill.ts)
        position = self._open.get(key)
        if position is not applied.position:
            applied = FillApplied(fill, applied.change, position, applied.closed, applied.realized_pnl)
        return applied

    def _record_closed(self, closed: Position) -> None:
        self._closed.append(closed)
        realized, fees = self._closed_totals.get(closed.key, (ZERO, ZERO))
        self._closed_totals[closed.key] = (
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
        return list(dict.fromkeys([*self._closed_totals, *self._open]))

    def fills_seen(self) -> int:
        return len(self._seen)

    def unrealized_pnl(self, position: Position) -> Decimal | None:
        mark = self._marks.get(position.symbol)
        return None if mark is None else position.unrealized_pnl(mark.price)

    def totals(
        self, account: str | None = None, strategy: str | None = None, symbol: str | None = None
    ) -> dict[str, LedgerTotals]:
        """Realized, fees, unrealized and exposure per currency over the matching positions,
        open and closed, in the order currencies were first seen."""
        sums: dict[str, _Sum] = {}
        for key, (realized, fees) in self._closed_totals.items():
            if _matches(key, account, strategy, symbol):
                sums.setdefault(self._instruments[key.symbol].currency, _Sum()).add_closed(realized, fees)
        for position in self._open.values():
            if _matches(position.key, account, strategy, symbol):
                mark = self._marks.get(position.symbol)
                sums.setdefault(position.currency, _Sum()).add_open(position, None if mark is None else mark.price)
        return {currency: total.freeze(currency) for currency, total in sums.items()}

    def __iter__(self) -> Iterator[Position]:
        return iter(list(self._open.values()))


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


def _with_excursion(position: Position, price: Decimal) -> Position:
    """The position with MAE/MFE widened to include the PnL it shows at `price`."""
    pnl = position.unrealized_pnl(price)
    if pnl > position.max_favorable_excursion:
        return _evolve(position, max_favorable_excursion=pnl)
    if -pnl > position.max_adverse_excursion:
        return _evolve(position, max_adverse_excursion=-pnl)
    return position


def _evolve(position: Position, **changes: object) -> Position:
    values = {name: getattr(position, name) for name in Position.__slots__}
    values.update(changes)
    return Position(**values)


def _open(
    key: PositionKey,
    instrument: Instrument,
    fill: Fill,
    qty: Decimal,
    fee: Decimal,
    change: PositionChange,
) -> FillApplied:
    signed = qty if fill.side.sign > 0 else -qty
    position = Position(
        key=key,
        position_id=fill.fill_id,
        currency=instrument.currency,
        multiplier=instrument.multiplier,
        net_qty=signed,
        cost=EXACT.multiply(signed, fill.price),
        avg_entry_price=Decimal(fill.price),
        realized_pnl=-fee,
        fees=fee,
        exit_qty=ZERO,
        exit_value=ZERO,
        peak_qty=qty,
        fill_count=1,
        opened_at=fill.ts,
        last_fill_at=fill.ts,
    )
    return FillApplied(fill, change, position, None, -fee)


def _increase(before: Position, fill: Fill) -> FillApplied:
    net_qty = EXACT.add(before.net_qty, fill.signed_qty)
    cost = EXACT.add(before.cost, EXACT.multiply(fill.signed_qty, fill.price))
    position = _evolve(
        before,
        net_qty=net_qty,
        cost=cost,
        avg_entry_price=DIVISION.divide(cost, net_qty),
        realized_pnl=EXACT.subtract(before.realized_pnl, fill.fee),
        fees=EXACT.add(before.fees, fill.fee),
        peak_qty=max(before.peak_qty, abs(net_qty)),
        fill_count=before.fill_count + 1,
        last_fill_at=fill.ts,
    )
    return FillApplied(fill, PositionChange.INCREASED, position, None, -fill.fee)


def _reduce(before: Position, fill: Fill, instrument: Instrument) -> FillApplied:
    open_qty = abs(before.net_qty)
    closing_qty = min(fill.qty, open_qty)
    remainder = EXACT.subtract(fill.qty, closing_qty)
    direction = 1 if before.net_qty > 0 else -1
    closing_fee = _proportion(fill.fee, closing_qty, fill.qty) if remainder else fill.fee
    removed_cost = (
        before.cost if closing_qty == open_qty else DIVISION.divide(EXACT.multiply(before.cost, closing_qty), open_qty)
    )
    exit_value = EXACT.multiply(closing_qty, fill.price)
    gross_points = EXACT.subtract(exit_value if direction > 0 else -exit_value, removed_cost)
    gross = EXACT.multiply(gross_points, before.multiplier)
    realized = EXACT.subtract(gross, closing_fee)
    net_qty = EXACT.subtract(before.net_qty, direction * closing_qty)
    position = _evolve(
        before,
        net_qty=net_qty,
        cost=EXACT.subtract(before.cost, removed_cost),
        realized_pnl=EXACT.add(before.realized_pnl, realized),
        fees=EXACT.add(before.fees, closing_fee),
        exit_qty=EXACT.add(before.exit_qty, closing_qty),
        exit_value=EXACT.add(before.exit_value, exit_value),
        fill_count=before.fill_count + 1,
        last_fill_at=fill.ts,
        closed_at=fill.ts if net_qty == 0 else None,
    )
    if net_qty:
        return FillApplied(fill, PositionChange.REDUCED, position, None, realized)
    if not remainder:
        return FillApplied(fill, PositionChange.CLOSED, None, position, realized)
    opening_fee = EXACT.subtract(fill.fee, closing_fee)
    flipped = _open(before.key, instrument, fill, remainder, opening_fee, PositionChange.FLIPPED)
    return FillApplied(
        fill,
        PositionChange.FLIPPED,
        flipped.position,
        position,
        EXACT.subtract(realized, opening_fee),
    )


def _proportion(fee: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """`fee` x part / whole, rounded half-even to the fee's own decimal places."""
    share = DIVISION.divide(EXACT.multiply(fee, part), whole)
    exponent = fee.as_tuple().exponent
    return share.quantize(Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0), context=DIVISION)
